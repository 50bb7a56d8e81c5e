package settings_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
)

// TestTryBaseSafeFieldByFormat: "try it" applies the rules ingest applies
// to each format: the SDK's session id field is safe in a Segment message,
// not in rrweb events.
func TestTryBaseSafeFieldByFormat(t *testing.T) {
	tests := []struct {
		format, input string
		kept          bool
	}{
		{"json", `{"context":{"veil":{"sessionId":"bob@example.com"}}}`, true},
		{"rrweb", `[{"type":5,"timestamp":1,"data":{"tag":"t","payload":{"context":{"veil":{"sessionId":"bob@example.com"}}}}}]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			out, _, err := settings.Try(scrub.Rules{}, tt.format, []byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if kept := strings.Contains(string(out), "bob@example.com"); kept != tt.kept {
				t.Fatalf("kept = %v, want %v: %s", kept, tt.kept, out)
			}
		})
	}
}
