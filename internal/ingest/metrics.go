package ingest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veil-privacy/veil/internal/wal"
)

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
	// Group commits of the write-ahead log: an acknowledgement waits for
	// one, so their sync time is the floor of ingest latency.
	walSync    prometheus.Histogram
	walWrite   prometheus.Histogram
	walAppends prometheus.Histogram
	walBytes   prometheus.Counter
	// Where an accepted request's time goes, step by step, and how long
	// the packer's rounds take: the tail of the acknowledgement latency
	// is read from these.
	stage     *prometheus.HistogramVec
	stageObs  [numKinds][numStages]prometheus.Observer
	packRound prometheus.Histogram
}

// Kinds and steps of an ingest request (veil_ingest_stage_seconds).
const (
	kindEventsIdx = iota
	kindReplayIdx
	numKinds
)

const (
	stageRead    = iota // body read within limits, gunzip included
	stageScrub          // parse, validate and scrub (replay: and summarise)
	stageSession        // replay: the session's key, created with its first segment
	stageSeal           // compress and encrypt
	stageLog            // wait for the write-ahead log's group commit
	numStages
)

var (
	kindNames  = [numKinds]string{"events", "replay"}
	stageNames = [numStages]string{"read", "scrub", "session", "seal", "log"}
)

// stageClock times the steps of one request. Its zero value (nil
// metrics) records nothing.
type stageClock struct {
	obs *[numStages]prometheus.Observer
	t   time.Time
}

func (m *Metrics) clock(kind int) stageClock {
	return stageClock{obs: &m.stageObs[kind], t: time.Now()}
}

// done records the time since the previous step as stage's.
func (c *stageClock) done(stage int) {
	now := time.Now()
	c.obs[stage].Observe(now.Sub(c.t).Seconds())
	c.t = now
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
		walSync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "veil_wal_sync_seconds", Help: "Time of the fdatasync of each write-ahead log group commit.",
			Buckets: walBuckets,
		}),
		walWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "veil_wal_write_seconds", Help: "Time of the write of each write-ahead log group commit.",
			Buckets: walBuckets,
		}),
		walAppends: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "veil_wal_commit_appends", Help: "Requests acknowledged together by one write-ahead log group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		walBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "veil_wal_written_bytes_total", Help: "Bytes written to the write-ahead log by group commits.",
		}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "veil_ingest_stage_seconds", Help: "Time of each step of ingest requests that got that far, by kind and stage (read, scrub, session, seal, log).",
			Buckets: walBuckets,
		}, []string{"kind", "stage"}),
		packRound: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "veil_ingest_pack_round_seconds", Help: "Time of each packer round that moved records from the log.",
			Buckets: walBuckets,
		}),
	}
	for k := range numKinds {
		for st := range numStages {
			m.stageObs[k][st] = m.stage.WithLabelValues(kindNames[k], stageNames[st])
		}
	}
	if reg != nil {
		reg.MustRegister(m.events, m.segments, m.bytes, m.rejected, m.packed, m.packErrors, m.lag,
			m.walSync, m.walWrite, m.walAppends, m.walBytes, m.stage, m.packRound)
	}
	return m
}

// walBuckets run from 100 µs to 5 s: a healthy disk syncs in about a
// millisecond, and the spells to look for last a quarter to two seconds.
var walBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// ObserveWALCommit records one group commit (wal.Options.Observe).
func (m *Metrics) ObserveWALCommit(c wal.Commit) {
	m.walSync.Observe(c.Sync.Seconds())
	m.walWrite.Observe(c.Write.Seconds())
	m.walAppends.Observe(float64(c.Appends))
	m.walBytes.Add(float64(c.Bytes))
}
