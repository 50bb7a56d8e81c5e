package settings

import (
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/scrub"
)

// MaxTryInput is the most text Try scrubs: a sample, not a data set.
const MaxTryInput = 64 << 10

// Formats Try accepts.
var Formats = []string{"text", "json", "rrweb"}

// Try scrubs input with the effective form of rules, as ingest would:
// "text" is free text (event-property marker), "json" one JSON document
// (event properties, a Segment message or batch), "rrweb" a JSON array of
// rrweb events (masked with '*'). It returns the output and the counts per
// detector (never the removed values). Nothing is logged.
func Try(rules scrub.Rules, format string, input []byte) ([]byte, scrub.Report, error) {
	if len(input) > MaxTryInput {
		return nil, nil, veil.Errorf(veil.EINVALID, "The sample is larger than %d KiB.", MaxTryInput>>10)
	}
	if err := ValidateRules(rules); err != nil {
		return nil, nil, err
	}
	s, err := scrub.New(EffectiveFor(rules, format))
	if err != nil {
		return nil, nil, veil.Errorf(veil.EINVALID, "%s", err.Error())
	}
	var (
		out []byte
		rep scrub.Report
	)
	switch format {
	case "text", "":
		t, r := s.Text(string(input))
		out, rep = []byte(t), r
	case "json":
		out, rep, err = s.JSON(input)
	case "rrweb":
		out, rep, err = s.RRWeb(input)
	default:
		return nil, nil, veil.Errorf(veil.EINVALID, "format must be text, json or rrweb, not %q.", format)
	}
	if err != nil {
		return nil, nil, veil.Errorf(veil.EINVALID, "The sample could not be scrubbed as %s: %s", format, err.Error())
	}
	if rep == nil {
		rep = scrub.Report{}
	}
	return out, rep, nil
}
