package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrashLosesNothingAcknowledged drives a real `veil serve` with
// concurrent senders, SIGKILLs it at random moments, restarts it, and
// checks that every acknowledged messageId is stored exactly once, and
// every acknowledged replay segment (sessions opened while the server is
// killed included) replays exactly once.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "crash", "--data", dir, "--json").stdout)
	env := []string{"VEIL_DATA=" + dir, "VEIL_RATE_PER_KEY=0", "VEIL_RATE_PER_IP=0"}
	rng := rand.New(rand.NewPCG(7, 11))

	var mu sync.Mutex
	acked := map[string]bool{}
	var seq int64
	nextBatch := func(n int) ([]byte, []string) {
		mu.Lock()
		defer mu.Unlock()
		ids := make([]string, n)
		msgs := make([]string, n)
		for i := range ids {
			seq++
			ids[i] = fmt.Sprintf("crash-%d", seq)
			msgs[i] = fmt.Sprintf(`{"type":"track","event":"Tick","anonymousId":"a-%d","messageId":%q,"properties":{"n":%d}}`, seq%17, ids[i], seq)
		}
		return []byte(`{"batch":[` + strings.Join(msgs, ",") + `]}`), ids
	}

	// Replay segments: each session sends segsPerSession segments in order,
	// each with a custom event naming it.
	const segsPerSession = 6
	segAcked := map[string]bool{} // "session/seq"
	var segN int64
	nextSegment := func() (string, []byte, string) {
		mu.Lock()
		defer mu.Unlock()
		n := segN
		segN++
		sid := fmt.Sprintf("crash-session-%04d", n/segsPerSession)
		seq := n % segsPerSession
		tag := fmt.Sprintf("%s/%d", sid, seq)
		ts := 1700000000000 + n*1000
		body := fmt.Sprintf(`{"events":[{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/p"}},{"type":5,"timestamp":%d,"data":{"tag":%q}}]}`, ts, ts+1, tag)
		return fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), []byte(body), tag
	}

	const rounds = 4
	sentReqs, failedReqs := 0, 0
	for round := 0; round < rounds; round++ {
		cmd, base, _, stderr := startServe(t, env)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var cmu sync.Mutex
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				for ctx.Err() == nil {
					body, ids := nextBatch(20)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/batch", bytes.NewReader(body))
					req.SetBasicAuth(np.ServerKey, "")
					req.Header.Set("Content-Type", "application/json")
					res, err := client.Do(req)
					cmu.Lock()
					sentReqs++
					cmu.Unlock()
					if err != nil {
						cmu.Lock()
						failedReqs++
						cmu.Unlock()
						continue
					}
					var ok struct{ Success bool }
					json.NewDecoder(res.Body).Decode(&ok)
					res.Body.Close()
					if res.StatusCode == 200 && ok.Success {
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				path, body, tag := nextSegment()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
				req.SetBasicAuth(np.ServerKey, "")
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				res.Body.Close()
				if res.StatusCode == 200 {
					mu.Lock()
					segAcked[tag] = true
					mu.Unlock()
				}
			}
		}()
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		if round < rounds-1 {
			cmd.Process.Signal(syscall.SIGKILL)
		} else {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		cmd.Wait()
		cancel()
		wg.Wait()
		if round == rounds-1 && !strings.Contains(stderr.String(), "veil stopped") {
			t.Fatalf("last round did not stop cleanly:\n%s", stderr.String())
		}
	}
	// A last start packs whatever the final stop left, then stops cleanly.
	cmd, _, _, _ := startServe(t, env)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	r := mustVeil(t, nil, "export", "events", "--project", np.ProjectID, "--data", dir)
	stored := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m struct{ MessageID string }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("exported line is not JSON: %q", line)
		}
		stored[m.MessageID]++
	}
	lost, dup := lostAndDuplicated(acked, stored)
	t.Logf("crash test: %d rounds, %d requests (%d failed), %d messages acknowledged, %d stored, %d lost, %d duplicated",
		rounds, sentReqs, failedReqs, len(acked), len(stored), lost, dup)
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged; the test tested nothing")
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("%d acknowledged messages lost, %d stored more than once", lost, dup)
	}

	// Every acknowledged segment replays, once, in its session.
	replayed := map[string]int{}
	sessions := map[string]bool{}
	for tag := range segAcked {
		sessions[strings.Split(tag, "/")[0]] = true
	}
	for sid := range sessions {
		r := mustVeil(t, nil, "export", "replay", "--session", sid, "--data", dir)
		var evs []struct {
			Type int
			Data struct{ Tag string }
		}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if err := json.Unmarshal([]byte(line), &evs); err != nil {
				t.Fatalf("export replay %s: %v: %q", sid, err, line)
			}
			for _, e := range evs {
				if e.Type == 5 {
					replayed[e.Data.Tag]++
				}
			}
		}
	}
	segLost, segDup := lostAndDuplicated(segAcked, replayed)
	t.Logf("crash test: %d segments acknowledged in %d sessions, %d replayed, %d lost, %d duplicated",
		len(segAcked), len(sessions), len(replayed), segLost, segDup)
	if len(segAcked) == 0 {
		t.Fatal("no replay segment was acknowledged")
	}
	if segLost > 0 || segDup > 0 {
		t.Fatalf("%d acknowledged segments lost, %d replayed more than once", segLost, segDup)
	}
}

// lostAndDuplicated counts the acknowledged ids not stored, and the ids
// stored more than once.
func lostAndDuplicated(acked map[string]bool, stored map[string]int) (lost, dup int) {
	for id := range acked {
		if stored[id] == 0 {
			lost++
		}
	}
	for _, n := range stored {
		if n > 1 {
			dup++
		}
	}
	return lost, dup
}
