package destination

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the push job's Prometheus series. A nil *Metrics counts
// nothing.
type Metrics struct {
	pushes   *prometheus.CounterVec
	bytes    prometheus.Counter
	deleted  prometheus.Counter
	alerting prometheus.Gauge
}

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_destination_pushes_total",
			Help: "Push attempts of recording parts, by result (ok, error; error also by code)."}, []string{"result", "code"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "veil_destination_pushed_bytes_total",
			Help: "Bytes written to destinations and verified (events and manifests)."}),
		deleted: prometheus.NewCounter(prometheus.CounterOpts{Name: "veil_destination_local_copies_deleted_total",
			Help: "Sessions whose local copy was deleted after every destination had it (do_not_store)."}),
		alerting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "veil_destination_alerting",
			Help: "Destinations with a raised alert, as read at the start of this node's last push run."}),
	}
	reg.MustRegister(m.pushes, m.bytes, m.deleted, m.alerting)
	return m
}

func (m *Metrics) pushed(bytes int64) {
	if m != nil {
		m.pushes.WithLabelValues("ok", "").Inc()
		m.bytes.Add(float64(bytes))
	}
}

func (m *Metrics) failed(code string) {
	if m != nil {
		m.pushes.WithLabelValues("error", code).Inc()
	}
}

func (m *Metrics) deletedLocal(n int) {
	if m != nil {
		m.deleted.Add(float64(n))
	}
}

func (m *Metrics) alerts(n int) {
	if m != nil {
		m.alerting.Set(float64(n))
	}
}
