package destination

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/veil-privacy/veil"
)

// Kinds and modes of a destination.
const (
	KindS3   = "s3"
	KindSFTP = "sftp"

	// ModeCopy pushes recordings and keeps Veil's copy.
	ModeCopy = "copy"
	// ModeDoNotStore pushes recordings and, once every destination of the
	// project verified them, deletes Veil's copy (keeping a stub).
	ModeDoNotStore = "do_not_store"
)

// Server-side encryption options of an S3 destination.
const (
	SSENone   = "none"
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// S3Config is where an S3-compatible destination writes. It holds no
// secrets (those are in Secrets).
type S3Config struct {
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix,omitempty"`
	Region    string `json:"region"`
	Endpoint  string `json:"endpoint,omitempty"` // "" = AWS
	PathStyle bool   `json:"path_style,omitempty"`
	SSE       string `json:"sse,omitempty"`        // none | AES256 | aws:kms
	KMSKeyID  string `json:"kms_key_id,omitempty"` // with aws:kms
}

// SFTPConfig is where an SFTP destination writes. HostKey pins the
// server's public key (an authorized_keys or known_hosts line); any other
// key is refused.
type SFTPConfig struct {
	Host    string `json:"host"`
	Port    int    `json:"port"`
	User    string `json:"user"`
	Dir     string `json:"dir,omitempty"` // base directory; "" = the login directory
	HostKey string `json:"host_key"`
}

// Secrets are a destination's credentials. They are stored sealed with
// the project data key and never returned by Veil.
type Secrets struct {
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	Password        string `json:"password,omitempty"`
	PrivateKey      string `json:"private_key,omitempty"` // PEM/OpenSSH, unencrypted
}

// Input creates a destination. Exactly one of S3 and SFTP is set, as Kind
// says.
type Input struct {
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	Mode         string      `json:"mode"`
	S3           *S3Config   `json:"s3,omitempty"`
	SFTP         *SFTPConfig `json:"sftp,omitempty"`
	Secrets      Secrets     `json:"secrets"`
	AgeRecipient string      `json:"age_recipient,omitempty"` // age1… X25519 recipient
}

// config is what the store's Config column holds.
type config struct {
	S3   *S3Config   `json:"s3,omitempty"`
	SFTP *SFTPConfig `json:"sftp,omitempty"`
}

// Limits on fields.
const (
	maxName   = 100
	maxField  = 1024
	maxSecret = 16 << 10
)

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)

func invalid(format string, args ...any) error { return veil.Errorf(veil.EINVALID, format, args...) }

// validate checks in and fills defaults. Messages name the field.
func (in *Input) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case len(in.Name) > maxName:
		return invalid("Name is longer than %d characters.", maxName)
	case in.Mode == "":
		in.Mode = ModeCopy
	}
	if in.Mode != ModeCopy && in.Mode != ModeDoNotStore {
		return invalid("Mode must be %q or %q.", ModeCopy, ModeDoNotStore)
	}
	if in.AgeRecipient != "" {
		if _, err := age.ParseX25519Recipient(in.AgeRecipient); err != nil {
			return invalid("Age recipient must be an X25519 recipient (age1…).")
		}
	}
	for _, s := range []string{in.Secrets.AccessKeyID, in.Secrets.SecretAccessKey, in.Secrets.SessionToken,
		in.Secrets.Password, in.Secrets.PrivateKey} {
		if len(s) > maxSecret {
			return invalid("A secret is longer than %d bytes.", maxSecret)
		}
	}
	switch in.Kind {
	case KindS3:
		if in.S3 == nil || in.SFTP != nil {
			return invalid("An s3 destination needs the s3 settings only.")
		}
		return in.validateS3()
	case KindSFTP:
		if in.SFTP == nil || in.S3 != nil {
			return invalid("An sftp destination needs the sftp settings only.")
		}
		return in.validateSFTP()
	}
	return invalid("Kind must be %q or %q.", KindS3, KindSFTP)
}

func (in *Input) validateS3() error {
	c := in.S3
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.SSE == "" {
		c.SSE = SSENone
	}
	switch {
	case !bucketRE.MatchString(c.Bucket):
		return invalid("Bucket must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-').")
	case len(c.Prefix) > maxField || len(c.Region) > 64 || len(c.Endpoint) > maxField || len(c.KMSKeyID) > maxField:
		return invalid("A setting is too long.")
	case validPath(c.Prefix) != nil:
		return invalid("Prefix: %v", validPath(c.Prefix))
	case c.SSE != SSENone && c.SSE != SSEAES256 && c.SSE != SSEKMS:
		return invalid("SSE must be %q, %q or %q.", SSENone, SSEAES256, SSEKMS)
	case c.KMSKeyID != "" && c.SSE != SSEKMS:
		return invalid("A KMS key id needs SSE %q.", SSEKMS)
	case in.Secrets.AccessKeyID == "" || in.Secrets.SecretAccessKey == "":
		return invalid("An s3 destination needs an access key id and a secret access key.")
	case in.Secrets.Password != "" || in.Secrets.PrivateKey != "":
		return invalid("An s3 destination takes no password or private key.")
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			return invalid("Endpoint must be an http(s) URL without credentials or query, e.g. https://s3.example.com.")
		}
	}
	return nil
}

func (in *Input) validateSFTP() error {
	c := in.SFTP
	if c.Port == 0 {
		c.Port = 22
	}
	c.Dir = strings.TrimRight(c.Dir, "/")
	switch {
	case c.Host == "" || len(c.Host) > 255 || strings.ContainsAny(c.Host, "/@ \t\r\n"):
		return invalid("Host must be a host name or IP address.")
	case c.Port < 1 || c.Port > 65535:
		return invalid("Port must be between 1 and 65535.")
	case c.User == "" || len(c.User) > 255 || strings.ContainsAny(c.User, "\r\n"):
		return invalid("User required.")
	case len(c.Dir) > maxField || validPath(strings.TrimLeft(c.Dir, "/")) != nil:
		return invalid("Dir must be a plain directory path.")
	case in.Secrets.AccessKeyID != "" || in.Secrets.SecretAccessKey != "" || in.Secrets.SessionToken != "":
		return invalid("An sftp destination takes no S3 credentials.")
	case in.Secrets.Password == "" && in.Secrets.PrivateKey == "":
		return invalid("An sftp destination needs a private key or a password.")
	}
	if _, err := parseHostKey(c.HostKey); err != nil {
		return err
	}
	if in.Secrets.PrivateKey != "" {
		if _, err := ssh.ParsePrivateKey([]byte(in.Secrets.PrivateKey)); err != nil {
			return invalid("Private key must be an unencrypted OpenSSH or PEM private key.")
		}
	}
	return nil
}

// validPath refuses "." and ".." segments and control characters in a
// slash path (a prefix or directory).
func validPath(p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("empty, '.' or '..' segment")
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character")
		}
	}
	return nil
}

// parseHostKey reads a pinned host key: an authorized_keys line
// ("ssh-ed25519 AAAA… comment") or a known_hosts line ("host ssh-ed25519
// AAAA…").
func parseHostKey(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, invalid("Host key required: pin the server's public key (e.g. the output of ssh-keyscan).")
	}
	if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
		return k, nil
	}
	if _, _, k, _, _, err := ssh.ParseKnownHosts([]byte(line)); err == nil {
		return k, nil
	}
	return nil, invalid("Host key must be an authorized_keys or known_hosts line (ssh-ed25519 AAAA…).")
}

func encodeConfig(in *Input) (string, error) {
	b, err := json.Marshal(config{S3: in.S3, SFTP: in.SFTP})
	if err != nil {
		return "", fmt.Errorf("encode destination config: %w", err)
	}
	return string(b), nil
}

func decodeConfig(s string) (*config, error) {
	var c config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("decode destination config: %w", err)
	}
	return &c, nil
}
