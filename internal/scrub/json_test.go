package scrub_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

func TestJSON(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	tests := []struct {
		name    string
		in      string
		want    string
		report  string
		wantErr error
	}{
		{
			name: "SensitiveKeys",
			in:   `{"password":"hunter2","user":{"apiKey":"abc","name":"Bob"},"cvv":123,"has_card":true}`,
			want: `{"password":"[Filtered]","user":{"apiKey":"[Filtered]","name":"Bob"},"cvv":"[Filtered]","has_card":true}`,
		},
		{
			name: "SensitiveObject",
			in:   `{"cookies":{"a":"1","b":["2",3]},"x":"y"}`,
			want: `{"cookies":{"a":"[Filtered]","b":["[Filtered]","[Filtered]"]},"x":"y"}`,
		},
		{
			name: "DetectorsInValues",
			in:   `{"note":"mail me at bob@example.com","n":4111111111111111,"ip":"203.0.113.9"}`,
			want: `{"note":"mail me at [Filtered]","n":"[Filtered]","ip":"[Filtered]"}`,
		},
		{
			name: "UnicodeEscapes",
			in:   `{"e":"bob\u0040example.com","ok":"caf\u00e9"}`,
			want: `{"e":"[Filtered]","ok":"caf\u00e9"}`,
		},
		{
			name: "EmbeddedJSON",
			in:   `{"body":"{\"password\":\"x1\",\"q\":\"fine\"}"}`,
			want: `{"body":"{\"password\":\"[Filtered]\",\"q\":\"fine\"}"}`,
		},
		{
			name: "KeyWithEmail",
			in:   `{"bob@example.com":1}`,
			want: `{"[Filtered]":1}`,
		},
		{
			name: "Clean",
			in:   `{"event":"Order Completed","properties":{"order_id":"ORD-2024-001234","total":129.99,"items":[1,2]}}`,
			want: `{"event":"Order Completed","properties":{"order_id":"ORD-2024-001234","total":129.99,"items":[1,2]}}`,
		},
		{name: "Invalid", in: `{"a":}`, wantErr: scrub.ErrInvalidJSON},
		{name: "Trailing", in: `{"a":1} x`, wantErr: scrub.ErrInvalidJSON},
		{name: "BadUTF8", in: "{\"a\":\"\xff\"}", wantErr: scrub.ErrInvalidUTF8},
		{name: "TooDeep", in: strings.Repeat("[", 600) + strings.Repeat("]", 600), wantErr: scrub.ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, rep, err := s.JSON([]byte(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if out != nil {
					t.Fatalf("output on error: %q", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("got  %s\nwant %s\nreport %v", out, tc.want, rep)
			}
			if !json.Valid(out) {
				t.Errorf("invalid JSON out: %s", out)
			}
		})
	}
}

func TestJSON_CleanInputIsNotCopied(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	in := []byte(`{"a":"hello","b":[1,2,3]}`)
	out, rep, err := s.JSON(in)
	if err != nil || rep.Total() != 0 || &out[0] != &in[0] {
		t.Fatalf("clean input: err=%v rep=%v copied=%v", err, rep, &out[0] != &in[0])
	}
}

func TestJSON_TooLarge(t *testing.T) {
	s, err := scrub.New(scrub.Rules{}, scrub.WithLimits(scrub.Limits{MaxBytes: 10}))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.JSON([]byte(`{"a":"0123456789"}`))
	if !errors.Is(err, scrub.ErrTooLarge) || !strings.Contains(err.Error(), "MaxBytes") {
		t.Fatalf("err = %v", err)
	}
}

func TestRules(t *testing.T) {
	t.Run("SafeFields", func(t *testing.T) {
		s := mustScrubber(t, scrub.Rules{SafeFields: []string{"contact_email", "context.ip", "session_id"}})
		in := `{"contactEmail":"a@b.com","other":"c@d.com","context":{"ip":"203.0.113.9"},"ip":"203.0.113.9","sessionId":"s1"}`
		out, _, err := s.JSON([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		want := `{"contactEmail":"a@b.com","other":"[Filtered]","context":{"ip":"203.0.113.9"},"ip":"[Filtered]","sessionId":"s1"}`
		if string(out) != want {
			t.Errorf("got  %s\nwant %s", out, want)
		}
	})
	t.Run("SensitiveFieldsAndDisabled", func(t *testing.T) {
		s := mustScrubber(t, scrub.Rules{SensitiveFields: []string{"dob"}, Disabled: []string{"ipv4"}})
		out, _, err := s.JSON([]byte(`{"user_dob":"1990-01-01","ip":"203.0.113.9"}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"user_dob":"[Filtered]","ip":"203.0.113.9"}`; string(out) != want {
			t.Errorf("got %s want %s", out, want)
		}
	})
	t.Run("CustomRuleAndReplacement", func(t *testing.T) {
		s := mustScrubber(t, scrub.Rules{
			CustomRules: []scrub.CustomRule{{Name: "employee-id", Pattern: `EMP-\d{6}`}},
			Replacement: "<redacted>",
		})
		out, rep := s.Text("by EMP-123456 for bob@example.com")
		if out != "by <redacted> for <redacted>" || rep["custom:employee-id"] != 1 || rep[scrub.DetEmail] != 1 {
			t.Errorf("got %q %v", out, rep)
		}
	})
	t.Run("MaskReplacement", func(t *testing.T) {
		s := mustScrubber(t, scrub.Rules{Replacement: "*"})
		out, _, err := s.JSON([]byte(`{"e":"x bob@example.com","password":"abc"}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"e":"x ***************","password":"***"}`; string(out) != want {
			t.Errorf("got %s want %s", out, want)
		}
	})
	t.Run("Validate", func(t *testing.T) {
		bad := []struct {
			r    scrub.Rules
			want string
		}{
			{scrub.Rules{Disabled: []string{"cards"}}, `unknown detector "cards"`},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "x", Pattern: `(a`}}}, "not valid Go RE2 syntax"},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "x", Pattern: `(a)\1`}}}, "not valid Go RE2 syntax"},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "x", Pattern: `a*`}}}, "matches the empty string"},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "X Y", Pattern: `a`}}}, "use lowercase"},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "email", Pattern: `a`}}}, "built-in detector"},
			{scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "a", Pattern: `a`}, {Name: "a", Pattern: `b`}}}, "duplicate name"},
			{scrub.Rules{SafeFields: []string{"--"}}, "at least one letter"},
			{scrub.Rules{Replacement: `"x"`}, "replacement"},
		}
		for _, b := range bad {
			err := b.r.Validate()
			if !errors.Is(err, scrub.ErrInvalidRules) || !strings.Contains(err.Error(), b.want) {
				t.Errorf("Validate(%+v) = %v, want %q", b.r, err, b.want)
			}
		}
		if err := (scrub.Rules{}).Validate(); err != nil {
			t.Errorf("zero rules: %v", err)
		}
	})
}
