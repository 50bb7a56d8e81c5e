package ingest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/wal"
)

// cancelLog cancels the request (as a client that disconnects or times out
// while its data waits for a group commit) before handing it to the log.
type cancelLog struct {
	ingest.Log
	cancel context.CancelFunc
}

func (c *cancelLog) Append(ctx context.Context, recs ...[]byte) (wal.LSN, error) {
	c.cancel()
	return c.Log.Append(ctx, recs...)
}

// TestClientGoneIsNotServerFailure: a client that goes away before its
// acknowledgement stores nothing, and is counted as client_closed, not as
// a 503 (which operators alert on), with no error or warning logged.
func TestClientGoneIsNotServerFailure(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	cl := &cancelLog{}
	e := newEnv(t, func(o *ingest.Options) {
		o.Metrics = ingest.NewMetrics(reg)
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cl.Log = o.Log
		o.Log = cl
	})
	mux := http.NewServeMux()
	e.h.Register(mux)
	ctx, cancel := context.WithCancel(context.Background())
	cl.cancel = cancel
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/track", strings.NewReader(`{"event":"Signed Up","userId":"u-1"}`))
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth(e.project.ServerKey, "")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code == http.StatusOK {
		t.Fatalf("acknowledged a request whose client had gone: %s", w.Body)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "veil_ingest_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" {
					counts[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	if counts["client_closed"] != 1 || counts["unavailable"] != 0 || counts["internal"] != 0 {
		t.Errorf("veil_ingest_rejected_total: %v", counts)
	}
	if logs.Len() > 0 {
		t.Errorf("logged for a client that went away:\n%s", logs.String())
	}
	e.pack()
	if got := e.storedEvents(); len(got) != 0 {
		t.Errorf("stored %d events from a cancelled request", len(got))
	}
}
