package lifecycle

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the lifecycle jobs' Prometheus counters. A nil *Metrics
// counts nothing.
type Metrics struct {
	sessions  *prometheus.CounterVec
	batches   *prometheus.CounterVec
	events    *prometheus.CounterVec
	reclaimed prometheus.Counter
	runs      *prometheus.CounterVec
	recomp    *prometheus.CounterVec // segments and bytes saved by recompression

	backupLast     prometheus.Gauge
	backupDuration prometheus.Gauge
	backupFailures prometheus.Counter
}

// NewMetrics registers the counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_lifecycle_sessions_deleted_total",
			Help: "Sessions crypto-shredded, by reason (request, retention, erasure)."}, []string{"reason"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_lifecycle_event_batches_deleted_total",
			Help: "Event batch objects deleted, by reason."}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_lifecycle_events_deleted_total",
			Help: "Analytics messages deleted, by reason."}, []string{"reason"}),
		reclaimed: prometheus.NewCounter(prometheus.CounterOpts{Name: "veil_lifecycle_pack_bytes_reclaimed_total",
			Help: "Bytes of deleted segments removed from pack objects by compaction."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_lifecycle_job_runs_total",
			Help: "Lifecycle job runs, by job and result (ok, error, skipped)."}, []string{"job", "result"}),
		recomp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veil_lifecycle_recompressed_total",
			Help: "Replay segments recompressed from S2 to zstd at rest (what=segments) and the bytes that saved (what=bytes_saved)."}, []string{"what"}),
	}
	m.backupLast = prometheus.NewGauge(prometheus.GaugeOpts{Name: "veil_backup_last_success_timestamp_seconds",
		Help: "Unix time of the last scheduled backup that completed (0: none since start)."})
	m.backupDuration = prometheus.NewGauge(prometheus.GaugeOpts{Name: "veil_backup_last_duration_seconds",
		Help: "How long the last successful scheduled backup took."})
	m.backupFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "veil_backup_failures_total",
		Help: "Scheduled backups that failed."})
	reg.MustRegister(m.sessions, m.batches, m.events, m.reclaimed, m.runs, m.recomp, m.backupLast, m.backupDuration, m.backupFailures)
	return m
}

func (m *Metrics) deleted(reason string, sessions, batches, events int64) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(reason).Add(float64(sessions))
	m.batches.WithLabelValues(reason).Add(float64(batches))
	m.events.WithLabelValues(reason).Add(float64(events))
}

func (m *Metrics) run(job, result string) {
	if m != nil {
		m.runs.WithLabelValues(job, result).Inc()
	}
}

// outcome counts a job run: skipped when another node held its lease.
func (m *Metrics) outcome(job string, err error) {
	switch {
	case errors.Is(err, ErrLeaseHeld):
		m.run(job, "skipped")
	case err != nil:
		m.run(job, "error")
	default:
		m.run(job, "ok")
	}
}

func (m *Metrics) reclaim(n int64) {
	if m != nil {
		m.reclaimed.Add(float64(n))
	}
}

func (m *Metrics) recompressed(segments int, saved int64) {
	if m != nil {
		m.recomp.WithLabelValues("segments").Add(float64(segments))
		m.recomp.WithLabelValues("bytes_saved").Add(float64(saved))
	}
}

func (m *Metrics) backupDone(at time.Time, d time.Duration) {
	if m != nil {
		m.backupLast.Set(float64(at.UnixMilli()) / 1000)
		m.backupDuration.Set(d.Seconds())
	}
}

func (m *Metrics) backupFailed() {
	if m != nil {
		m.backupFailures.Inc()
	}
}
