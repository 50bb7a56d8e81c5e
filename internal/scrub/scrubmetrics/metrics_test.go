package scrubmetrics_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/scrub/scrubmetrics"
)

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := scrubmetrics.New(reg)
	s := scrub.MustNew(scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "emp", Pattern: `EMP-\d+`}}})
	_, rep := s.Text("bob@example.com and ann@example.com, EMP-1234")
	m.Observe(rep)
	m.Observe(nil)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] += len(mf.GetMetric())
		if mf.GetName() == "veil_scrub_messages_total" {
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 2 {
				t.Errorf("messages = %v, want 2", v)
			}
		}
	}
	if n := series["veil_scrub_redactions_total"]; n != len(scrub.Detectors())+1 {
		t.Errorf("redaction series = %d, want %d", n, len(scrub.Detectors())+1)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		if mf.GetName() != "veil_scrub_redactions_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if v := mt.GetCounter().GetValue(); v > 0 {
				sb.WriteString(mt.GetLabel()[0].GetValue() + "=" + strconv.FormatFloat(v, 'f', -1, 64) + " ")
			}
		}
	}
	if got := sb.String(); got != "custom=1 email=2 " {
		t.Errorf("redactions: %q", got)
	}
}
