// Package loadgen is the load generator behind `veil bench ingest`: it
// sends synthetic Segment batches or rrweb replay segments to an ingest
// endpoint for a fixed time and reports throughput and latency. It only
// targets loopback addresses unless told otherwise, and always stops by
// itself.
package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run.
type Config struct {
	Target      string        // base URL, e.g. http://127.0.0.1:8080
	Key         string        // write key (server key: no Origin needed)
	Mode        string        // "events" or "replay"
	Duration    time.Duration // how long to send
	Concurrency int           // parallel senders
	Batch       int           // events per request (events mode)
	EventSize   int           // approximate bytes per event (events mode)
	SegmentKB   int           // rrweb JSON per segment, KB (replay mode)
	Sessions    int           // sessions recording at once (replay mode; 0 = DefaultSessions)
	Rate        float64       // requests per second over all senders (0 = as fast as they can)
	AllowRemote bool          // permit a non-loopback target
}

// DefaultSessions is how many sessions replay mode keeps recording at
// once (a site with 100 segments/s at the SDK's five-second flush; every
// session the run opens costs a store insert, so a larger pool needs a
// longer run to reach steady state).
const DefaultSessions = 500

// Result summarises a run.
type Result struct {
	Mode          string           `json:"mode"`
	Duration      time.Duration    `json:"duration_ns"`
	Requests      int64            `json:"requests"`
	OK            int64            `json:"ok"`
	Errors        map[string]int64 `json:"errors,omitempty"`
	Events        int64            `json:"events"`        // events acknowledged (events mode)
	WireBytes     int64            `json:"wire_bytes"`    // request bytes acknowledged, as sent
	DecodedBytes  int64            `json:"decoded_bytes"` // uncompressed JSON acknowledged
	P50, P99, Max time.Duration    `json:"-"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--target %q must be an http(s) URL such as http://127.0.0.1:8080", c.Target)
	}
	if !c.AllowRemote && !isLoopback(u.Hostname()) {
		return fmt.Errorf("--target %s is not a loopback address; load tests run against 127.0.0.1 unless --allow-remote is given", u.Hostname())
	}
	switch {
	case c.Key == "":
		return errors.New("--key is required (a server key veil_sk_…)")
	case c.Mode != "events" && c.Mode != "replay":
		return fmt.Errorf("--mode must be events or replay, got %q", c.Mode)
	case c.Duration <= 0 || c.Duration > time.Hour:
		return errors.New("--duration must be between 0 and 1h")
	case c.Concurrency < 1 || c.Concurrency > 1024:
		return errors.New("--concurrency must be between 1 and 1024")
	case c.Batch < 1 || c.Batch > 2000:
		return errors.New("--batch must be between 1 and 2000")
	case c.Sessions < 0 || c.Sessions > 1_000_000:
		return errors.New("--sessions must be between 1 and 1000000")
	case c.Rate < 0 || c.Rate > 1_000_000:
		return errors.New("--rate must be between 0 (unlimited) and 1000000 requests/s")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run sends load until cfg.Duration has passed or ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency * 2, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()

	var gen func(worker int, n int64) (body []byte, path string, gz bool, events, decoded int)
	switch cfg.Mode {
	case "events":
		gen = newEventGen(cfg.Batch, cfg.EventSize)
	default:
		gen = newReplayGen(cfg.SegmentKB, cmp.Or(cfg.Sessions, DefaultSessions))
	}
	res := &Result{Mode: cfg.Mode, Errors: map[string]int64{}}
	var mu sync.Mutex
	lat := make([][]time.Duration, cfg.Concurrency)
	var requests, ok, evs, wire, dec atomic.Int64
	// The run's time starts with the senders, after the set-up above (on a
	// busy machine building the replay segment could use up a short run).
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := int64(0); ctx.Err() == nil; n++ {
				// At a fixed rate, sender w sends its n-th request at a
				// scheduled time, and latency counts from that time: a
				// server that falls behind shows it in the tail instead
				// of slowing the senders down (coordinated omission).
				var due time.Time
				if cfg.Rate > 0 {
					due = start.Add(time.Duration(float64(n*int64(cfg.Concurrency)+int64(w)) / cfg.Rate * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
				}
				body, path, gz, nev, ndec := gen(w, n)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Target+path, bytes.NewReader(body))
				req.SetBasicAuth(cfg.Key, "")
				req.Header.Set("Content-Type", "application/json")
				if gz {
					req.Header.Set("Content-Encoding", "gzip")
				}
				t0 := time.Now()
				if !due.IsZero() && due.Before(t0) {
					t0 = due
				}
				resp, err := client.Do(req)
				d := time.Since(t0)
				if ctx.Err() != nil {
					return // the run ended mid-request: not counted
				}
				requests.Add(1)
				if err != nil {
					mu.Lock()
					res.Errors["transport"]++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					mu.Lock()
					res.Errors[strconv.Itoa(resp.StatusCode)]++
					mu.Unlock()
					continue
				}
				ok.Add(1)
				evs.Add(int64(nev))
				wire.Add(int64(len(body)))
				dec.Add(int64(ndec))
				lat[w] = append(lat[w], d)
			}
		}(w)
	}
	wg.Wait()
	res.Duration = time.Since(start)
	res.Requests, res.OK, res.Events, res.WireBytes, res.DecodedBytes = requests.Load(), ok.Load(), evs.Load(), wire.Load(), dec.Load()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[len(all)/2]
		res.P99 = all[min(len(all)-1, len(all)*99/100)]
		res.Max = all[len(all)-1]
	}
	return res, nil
}

// String formats the result for people.
func (r *Result) String() string {
	secs := r.Duration.Seconds()
	var b bytes.Buffer
	fmt.Fprintf(&b, "mode %s, %.1fs: %d requests, %d ok (%.0f req/s)\n", r.Mode, secs, r.Requests, r.OK, float64(r.OK)/secs)
	if r.Mode == "events" {
		fmt.Fprintf(&b, "events acknowledged: %d (%.0f events/s)\n", r.Events, float64(r.Events)/secs)
	}
	fmt.Fprintf(&b, "acknowledged input: %.1f MB/s on the wire, %.1f MB/s of JSON\n", float64(r.WireBytes)/secs/1e6, float64(r.DecodedBytes)/secs/1e6)
	fmt.Fprintf(&b, "latency: p50 %s, p99 %s, max %s\n", r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "errors: %v\n", r.Errors)
	}
	return b.String()
}
