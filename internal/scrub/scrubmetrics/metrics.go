// Package scrubmetrics exports scrub.Report counts as Prometheus counters:
//
//	veil_scrub_messages_total                    messages scrubbed
//	veil_scrub_redactions_total{detector="…"}    redactions per detector
//
// Custom rules are counted under detector="custom": their names are chosen
// per project and would make the label set unbounded.
package scrubmetrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veil-privacy/veil/internal/scrub"
)

// Metrics holds the counters. It is safe for concurrent use.
type Metrics struct {
	messages   prometheus.Counter
	redactions *prometheus.CounterVec
}

// New creates the counters and registers them with reg (which may be nil
// to skip registration, e.g. in tests). Every built-in detector's series is
// created at zero so that rate() works from the start.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "veil_scrub_messages_total",
			Help: "Messages (events or replay batches) passed through the scrubber.",
		}),
		redactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_scrub_redactions_total",
			Help: "Values removed by the scrubber, by detector. Values themselves are never recorded.",
		}, []string{"detector"}),
	}
	for _, d := range scrub.Detectors() {
		m.redactions.WithLabelValues(d)
	}
	m.redactions.WithLabelValues("custom")
	if reg != nil {
		reg.MustRegister(m.messages, m.redactions)
	}
	return m
}

// Observe counts one scrubbed message and its redactions.
func (m *Metrics) Observe(r scrub.Report) {
	m.messages.Inc()
	for d, n := range r {
		if n <= 0 {
			continue
		}
		if strings.HasPrefix(d, scrub.CustomPrefix) {
			d = "custom"
		}
		m.redactions.WithLabelValues(d).Add(float64(n))
	}
}
