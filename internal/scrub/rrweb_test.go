package scrub_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

func TestRRWeb_PasswordInputAcrossBatches(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	batch1 := `[{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"tagName":"input","id":7,"childNodes":[],"attributes":{"value":"hunter2","autocomplete":"current-password"}}]},"initialOffset":{"left":0,"top":0}},"timestamp":1}]`
	batch2 := `[{"type":3,"data":{"source":5,"id":7,"text":"hunter22","isChecked":false},"timestamp":2},{"type":3,"data":{"source":0,"texts":[],"removes":[],"adds":[],"attributes":[{"id":7,"attributes":{"value":"hunter222"}}]},"timestamp":3},{"type":3,"data":{"source":5,"id":8,"text":"plain words","isChecked":false},"timestamp":4}]`
	var st scrub.ReplayState
	out1, rep1, err := s.RRWebSession(&st, []byte(batch1))
	if err != nil || !strings.Contains(string(out1), `"value":"*******"`) || rep1[scrub.DetField] != 1 {
		t.Fatalf("batch1: %s %v %v", out1, rep1, err)
	}
	out2, rep2, err := s.RRWebSession(&st, []byte(batch2))
	if err != nil || strings.Contains(string(out2), "hunter") || !strings.Contains(string(out2), "plain words") || rep2[scrub.DetField] != 2 {
		t.Fatalf("batch2: %s %v %v", out2, rep2, err)
	}
	// Without the session state the later batch only gets detector scanning.
	out3, _, _ := s.RRWeb([]byte(batch2))
	if !strings.Contains(string(out3), "hunter22") {
		t.Fatalf("stateless: %s", out3)
	}
}
