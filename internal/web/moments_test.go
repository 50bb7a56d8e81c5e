package web

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMomentOf(t *testing.T) {
	const sid = "ses_abcdefgh"
	ctx := `"context":{"veil":{"sessionId":"` + sid + `"},"page":{"path":"/x"}}`
	long := strings.Repeat("é", 300)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"track", `{"type":"track","event":"Signed Up","properties":{"email":"a@b.c"},"timestamp":"2026-11-23T10:00:01.5Z",` + ctx + `}`,
			`{"data":{"payload":{"event":"Signed Up"},"tag":"veil.track"},"timestamp":1795428001500,"type":5}`},
		{"identify", `{"type":"identify","userId":"cust-1","traits":{"name":"Jane"},"timestamp":"2026-11-23T10:00:00Z",` + ctx + `}`,
			`{"data":{"payload":{"userId":"cust-1"},"tag":"veil.identify"},"timestamp":1795428000000,"type":5}`},
		{"long name clipped", `{"type":"track","event":"` + long + `","timestamp":"2026-11-23T10:00:00Z",` + ctx + `}`,
			`{"data":{"payload":{"event":"` + long[:400] + `"},"tag":"veil.track"},"timestamp":1795428000000,"type":5}`},
		{"other session", `{"type":"track","event":"x","timestamp":"2026-11-23T10:00:00Z","context":{"veil":{"sessionId":"ses_other123"}}}`, ""},
		{"no session", `{"type":"track","event":"x","timestamp":"2026-11-23T10:00:00Z"}`, ""},
		{"page", `{"type":"page","name":"Home","timestamp":"2026-11-23T10:00:00Z",` + ctx + `}`, ""},
		{"bad time", `{"type":"track","event":"x","timestamp":"yesterday",` + ctx + `}`, ""},
		{"not JSON", `{"type":"track",`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := momentOf([]byte(tc.in), sid)
			if ok != (tc.want != "") || strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("momentOf:\n got %s (%v)\nwant %s", got, ok, tc.want)
			}
		})
	}
}

// FuzzMomentOf: any stored line gives nothing or one valid custom event
// of the session, with nothing but the event name or user id in it.
func FuzzMomentOf(f *testing.F) {
	f.Add([]byte(`{"type":"track","event":"Signed Up","timestamp":"2026-11-23T10:00:01Z","context":{"veil":{"sessionId":"s1"}}}`))
	f.Add([]byte(`{"type":"identify","userId":"u","timestamp":"2026-11-23T10:00:01Z","context":{"veil":{"sessionId":"s1"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := momentOf(b, "s1")
		if !ok {
			return
		}
		var e struct {
			Type int `json:"type"`
			Data struct {
				Tag     string            `json:"tag"`
				Payload map[string]string `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal(out, &e); err != nil || e.Type != 5 || len(e.Data.Payload) != 1 || !strings.HasPrefix(e.Data.Tag, "veil.") {
			t.Fatalf("momentOf(%q) = %s", b, out)
		}
	})
}
