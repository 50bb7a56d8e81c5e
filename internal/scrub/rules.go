package scrub

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Detector names. They are stable: they appear in Rules.Disabled, in
// Report keys and in the veil_scrub_redactions_total{detector} metric.
const (
	DetCard           = "card"            // payment card numbers (Luhn + issuer prefix + length)
	DetSSN            = "ssn"             // US social security numbers (AAA-GG-SSSS)
	DetIBAN           = "iban"            // IBANs (country length + mod-97)
	DetEmail          = "email"           // e-mail addresses
	DetPhone          = "phone"           // E.164 and unambiguous national phone numbers
	DetIPv4           = "ipv4"            // IPv4 addresses
	DetIPv6           = "ipv6"            // IPv6 addresses
	DetJWT            = "jwt"             // JSON Web Tokens
	DetAuth           = "auth_credential" // Bearer/Basic credentials
	DetURLCredentials = "url_credentials" // user:pass@ in URLs
	DetAWSAccessKey   = "aws_access_key"  // AKIA…/ASIA… key ids
	DetAWSSecretKey   = "aws_secret_key"  // 40-char secret near "aws"/"secret"
	DetGitHub         = "github_token"    // ghp_, gho_, ghu_, ghs_, ghr_, github_pat_
	DetGitLab         = "gitlab_token"    // glpat-, gldt-, glptt-, glrt-
	DetSlack          = "slack_token"     // xox?-, xapp-, hooks.slack.com webhooks
	DetStripe         = "stripe_key"      // sk_/rk_ live/test keys, whsec_
	DetGoogleAPIKey   = "google_api_key"  // AIza…
	DetOpenAI         = "openai_key"      // sk-…, sk-proj-…
	DetPrivateKey     = "private_key"     // PEM private key blocks
	DetField          = "sensitive_field" // values of sensitive field names
	// CustomPrefix prefixes the Report key of a custom rule: "custom:NAME".
	CustomPrefix = "custom:"
)

// detID indexes the built-in detectors; the order is the order of detNames.
type detID uint8

const (
	dCard detID = iota
	dSSN
	dIBAN
	dEmail
	dPhone
	dIPv4
	dIPv6
	dJWT
	dAuth
	dURLCred
	dAWSKey
	dAWSSecret
	dGitHub
	dGitLab
	dSlack
	dStripe
	dGoogle
	dOpenAI
	dPEM
	dField
	numBuiltin
	// dCustom0 is the first custom rule; custom rule k is dCustom0+k.
	dCustom0 = numBuiltin
)

var detNames = [numBuiltin]string{
	DetCard, DetSSN, DetIBAN, DetEmail, DetPhone, DetIPv4, DetIPv6, DetJWT,
	DetAuth, DetURLCredentials, DetAWSAccessKey, DetAWSSecretKey, DetGitHub,
	DetGitLab, DetSlack, DetStripe, DetGoogleAPIKey, DetOpenAI, DetPrivateKey,
	DetField,
}

// Detectors returns the names of the built-in detectors, all of which are
// on unless listed in Rules.Disabled.
func Detectors() []string { return append([]string(nil), detNames[:]...) }

// DefaultReplacement replaces redacted event-property text.
const DefaultReplacement = "[Filtered]"

// DefaultSensitiveFields are the field names whose values are always
// removed. Matching is by words, case-insensitively: "api_key", "apiKey",
// "X-Api-Key" and "APIKEY" all match "api_key"/"apikey"; "user_password"
// matches "password"; "cardinality" does not match "card".
var DefaultSensitiveFields = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token", "api_key",
	"apikey", "access_key", "private_key", "privatekey", "authorization",
	"auth", "credential", "credentials", "cookie", "set_cookie", "session",
	"sessionid", "phpsessid", "jsessionid", "sid", "csrf", "xsrf", "csrftoken",
	"ssn", "social_security", "card", "cardnumber", "ccnumber", "cc_number",
	"cvv", "cvc", "cvv2", "cvc2", "iban", "jwt", "bearer", "otp", "mysql_pwd",
	"signature", "account_number", "routing_number", "tax_id",
}

// Limits bound the memory and CPU one call may use. Exceeding one is an
// error that names the limit; nothing is passed through unscrubbed.
type Limits struct {
	// MaxBytes is the largest JSON or rrweb input accepted.
	MaxBytes int
	// MaxDepth is the deepest JSON nesting accepted, counting JSON found
	// inside strings (e.g. a network body) as deeper levels.
	MaxDepth int
}

// DefaultLimits fit the ingest limits with a wide margin: rrweb DOMs more
// than 200 elements deep are rare.
var DefaultLimits = Limits{MaxBytes: 64 << 20, MaxDepth: 512}

// Rules are one project's scrubbing settings. The zero value means "all
// built-in detectors and default sensitive fields on". Rules are stored as
// JSON and validated with Validate when saved.
type Rules struct {
	// Disabled lists built-in detectors to turn off (see Detectors), e.g.
	// ["ipv4", "ipv6"] to keep IP addresses.
	Disabled []string `json:"disabled,omitempty"`
	// CustomRules are extra Go RE2 patterns; every match is removed.
	CustomRules []CustomRule `json:"custom_rules,omitempty"`
	// SafeFields are never scrubbed, values included. An entry without a
	// dot matches a field name by words ("order_id" matches "orderId"); an
	// entry with dots matches a path of names ("context.ip").
	SafeFields []string `json:"safe_fields,omitempty"`
	// SensitiveFields are removed in addition to DefaultSensitiveFields.
	SensitiveFields []string `json:"sensitive_fields,omitempty"`
	// Replacement replaces redacted text in events (JSON and Text). Empty
	// means DefaultReplacement; "*" masks each character instead, as
	// replays always do.
	Replacement string `json:"replacement,omitempty"`
}

// CustomRule is a named Go regular expression (RE2 syntax: linear time,
// no backreferences or lookaround).
type CustomRule struct {
	Name    string `json:"name"`
	Pattern string `json:"pattern"`
}

// Rule limits, checked by Validate.
const (
	maxCustomRules   = 64
	maxPatternLen    = 1024
	maxFieldEntries  = 256
	maxFieldLen      = 128
	maxReplacement   = 32
	maxRuleNameLen   = 48
	regexpSizeBudget = 1 << 20 // bytes of compiled program across all rules
)

// ErrInvalidRules is wrapped by every error Validate returns.
var ErrInvalidRules = errors.New("invalid scrub rules")

func rulesErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRules, fmt.Sprintf(format, args...))
}

// Validate checks r and returns an error that says which entry is wrong
// and why. It compiles the custom patterns.
func (r Rules) Validate() error {
	_, err := r.compile()
	return err
}

// compiled holds the parts of Rules that are expensive to derive.
type compiled struct {
	enabled   [numBuiltin]bool
	custom    []*regexp.Regexp
	names     []string // Report keys of custom rules ("custom:NAME")
	marker    string   // "" in mask mode
	sensitive *fieldSet
	safe      *fieldSet
	safePaths [][]string // normalised dotted SafeFields
	// schemaOverride is set when the rules give meaning to one of rrweb's
	// schema keys, which disables the fast path for them.
	schemaOverride bool
	// byteScan keeps the scanner on its byte loop (tests compare it with
	// the indexed scan).
	byteScan bool
}

func (r Rules) compile() (*compiled, error) {
	c := &compiled{}
	for i := range c.enabled {
		c.enabled[i] = true
	}
	for _, d := range r.Disabled {
		id, ok := detByName(d)
		if !ok {
			return nil, rulesErr("disabled: unknown detector %q (known: %s)", d, strings.Join(detNames[:], ", "))
		}
		c.enabled[id] = false
	}
	if len(r.CustomRules) > maxCustomRules {
		return nil, rulesErr("custom_rules: %d rules, at most %d allowed", len(r.CustomRules), maxCustomRules)
	}
	seen := map[string]bool{}
	budget := 0
	for i, cr := range r.CustomRules {
		if err := validRuleName(cr.Name); err != nil {
			return nil, rulesErr("custom_rules[%d]: %v", i, err)
		}
		if seen[cr.Name] {
			return nil, rulesErr("custom_rules[%d]: duplicate name %q", i, cr.Name)
		}
		seen[cr.Name] = true
		if cr.Pattern == "" {
			return nil, rulesErr("custom_rules[%d] %q: empty pattern", i, cr.Name)
		}
		if len(cr.Pattern) > maxPatternLen {
			return nil, rulesErr("custom_rules[%d] %q: pattern is %d bytes, at most %d allowed", i, cr.Name, len(cr.Pattern), maxPatternLen)
		}
		re, err := regexp.Compile(cr.Pattern)
		if err != nil {
			return nil, rulesErr("custom_rules[%d] %q: pattern is not valid Go RE2 syntax: %v", i, cr.Name, err)
		}
		if re.MatchString("") {
			return nil, rulesErr("custom_rules[%d] %q: pattern matches the empty string; it would match everywhere", i, cr.Name)
		}
		budget += len(re.String()) * 64
		if budget > regexpSizeBudget {
			return nil, rulesErr("custom_rules[%d] %q: patterns too large in total", i, cr.Name)
		}
		c.custom = append(c.custom, re)
		c.names = append(c.names, CustomPrefix+cr.Name)
	}
	if err := checkFields("safe_fields", r.SafeFields, true); err != nil {
		return nil, err
	}
	if err := checkFields("sensitive_fields", r.SensitiveFields, false); err != nil {
		return nil, err
	}
	switch rep := r.Replacement; {
	case rep == "":
		c.marker = DefaultReplacement
	case rep == "*":
		c.marker = ""
	default:
		if len(rep) > maxReplacement || !utf8.ValidString(rep) {
			return nil, rulesErr("replacement: must be valid UTF-8 of at most %d bytes", maxReplacement)
		}
		for _, ch := range rep {
			if ch < 0x20 || ch == '"' || ch == '\\' || ch == 0x7f {
				return nil, rulesErr("replacement: must not contain quotes, backslashes or control characters")
			}
		}
		c.marker = rep
	}
	sens := append(append([]string(nil), DefaultSensitiveFields...), r.SensitiveFields...)
	c.sensitive = newFieldSet(sens)
	var plain []string
	for _, f := range r.SafeFields {
		if strings.Contains(f, ".") {
			var p []string
			for _, part := range strings.Split(f, ".") {
				p = append(p, normKey(part))
			}
			c.safePaths = append(c.safePaths, p)
		} else {
			plain = append(plain, f)
		}
	}
	c.safe = newFieldSet(plain)
	for k := range schemaKeys {
		if c.classify([]byte(k)) != keyPlain {
			c.schemaOverride = true
		}
	}
	return c, nil
}

func detByName(name string) (detID, bool) {
	for i, n := range detNames {
		if n == name {
			return detID(i), true
		}
	}
	return 0, false
}

func validRuleName(n string) error {
	if n == "" {
		return errors.New("name is empty")
	}
	if len(n) > maxRuleNameLen {
		return fmt.Errorf("name %q longer than %d bytes", n, maxRuleNameLen)
	}
	for _, c := range []byte(n) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("name %q: use lowercase letters, digits, '_' and '-'", n)
		}
	}
	if _, ok := detByName(n); ok {
		return fmt.Errorf("name %q is a built-in detector", n)
	}
	return nil
}

func checkFields(what string, fs []string, dots bool) error {
	if len(fs) > maxFieldEntries {
		return rulesErr("%s: %d entries, at most %d allowed", what, len(fs), maxFieldEntries)
	}
	for i, f := range fs {
		if len(f) > maxFieldLen || !utf8.ValidString(f) {
			return rulesErr("%s[%d]: must be valid UTF-8 of at most %d bytes", what, i, maxFieldLen)
		}
		parts := []string{f}
		if dots {
			parts = strings.Split(f, ".")
		}
		for _, p := range parts {
			if normKey(p) == "" {
				return rulesErr("%s[%d] %q: needs at least one letter or digit in each name", what, i, f)
			}
		}
	}
	return nil
}
