package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are ingest's Prometheus metrics. Labels are codes and kinds,
// never keys, projects' content or payload values.
type Metrics struct {
	events     *prometheus.CounterVec // accepted / duplicate
	segments   prometheus.Counter
	bytes      *prometheus.CounterVec // by kind: events, replay
	rejected   *prometheus.CounterVec // by error code
	packed     *prometheus.CounterVec // records moved from the log, by kind
	packErrors prometheus.Counter
	lag        prometheus.Gauge
}

// NewMetrics registers ingest metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_ingest_events_total", Help: "Segment messages received, by outcome (accepted, duplicate).",
		}, []string{"outcome"}),
		segments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "veil_ingest_replay_segments_total", Help: "Replay segments accepted.",
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_ingest_bytes_total", Help: "Decoded request bytes accepted, by kind.",
		}, []string{"kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_ingest_rejected_total", Help: "Ingest requests refused, by error code.",
		}, []string{"code"}),
		packed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_ingest_packed_records_total", Help: "Log records moved into the store and blob store, by kind.",
		}, []string{"kind"}),
		packErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "veil_ingest_pack_errors_total", Help: "Packer rounds that failed and will be retried.",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "veil_ingest_unpacked_records", Help: "Records in the write-ahead log not yet packed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.segments, m.bytes, m.rejected, m.packed, m.packErrors, m.lag)
	}
	return m
}
