package ingest_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veil-privacy/veil/internal/ingest"
)

// TestStageMetrics: every accepted request adds one observation to each of
// its steps in veil_ingest_stage_seconds (events have no session step); a
// refused one stops counting where it was refused.
func TestStageMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(o *ingest.Options) { o.Metrics = ingest.NewMetrics(reg) })
	ok := []req{
		{path: "/v1/track", body: `{"event":"Signed Up","userId":"u-1"}`, key: e.project.ServerKey},
		{path: "/v1/batch", body: `{"batch":[{"type":"track","event":"A","userId":"u-1"},{"type":"page","userId":"u-1"}]}`, key: e.project.ServerKey, gzip: true},
		{path: "/v1/replay?session=sess-metrics-1&seq=0", body: `{"events":[{"type":4,"timestamp":1700000000000,"data":{"href":"https://a.example/x"}}]}`, key: e.project.ServerKey, gzip: true},
	}
	for _, r := range ok {
		if res := e.do(r); res.status != 200 {
			t.Fatalf("%s: %d %s", r.path, res.status, res.body)
		}
	}
	// Refused after the read (no events): counted as read only.
	if res := e.do(req{path: "/v1/replay?session=sess-metrics-1&seq=1", body: `{"events":[]}`, key: e.project.ServerKey}); res.status != 400 {
		t.Fatalf("empty segment: %d %s", res.status, res.body)
	}
	got := map[[2]string]uint64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "veil_ingest_stage_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var k [2]string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "kind":
					k[0] = l.GetValue()
				case "stage":
					k[1] = l.GetValue()
				}
			}
			got[k] = m.GetHistogram().GetSampleCount()
		}
	}
	want := map[[2]string]uint64{
		{"events", "read"}: 2, {"events", "scrub"}: 2, {"events", "session"}: 0, {"events", "seal"}: 2, {"events", "log"}: 2,
		{"replay", "read"}: 2, {"replay", "scrub"}: 1, {"replay", "session"}: 1, {"replay", "seal"}: 1, {"replay", "log"}: 1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("veil_ingest_stage_seconds{kind=%q,stage=%q} count = %d, want %d", k[0], k[1], got[k], n)
		}
	}
}
