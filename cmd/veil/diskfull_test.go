package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullAnswers503AndRecovers puts the write-ahead log on a 3 MB
// tmpfs, fills it, and checks the server answers 503 with Retry-After,
// stays up, frees space as the packer moves data out, and loses nothing it
// acknowledged. The ingest package also covers this with an injected
// writer fault; this test needs permission to mount (root), and skips
// with the reason when it does not have it.
func TestDiskFullAnswers503AndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	walDir, err := os.MkdirTemp("", "veil-wal-tmpfs-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(walDir)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", walDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v: %s); the injected-fault test in internal/ingest covers 503 on a full disk", err, bytes.TrimSpace(out))
	}
	defer exec.Command("umount", "-l", walDir).Run()

	dir := t.TempDir()
	np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "full", "--data", dir, "--json").stdout)
	cmd, base, _, stderr := startServe(t, []string{"VEIL_DATA=" + dir, "VEIL_WAL_DIR=" + walDir, "VEIL_WAL_SEGMENT_MB=1",
		"VEIL_RATE_PER_KEY=0", "VEIL_RATE_PER_IP=0"})

	// Random letters, different in every message: sealing (zstd) cannot
	// shrink them much, so the log really fills.
	pad := func() string {
		b := make([]byte, 4000)
		for i := range b {
			b[i] = 'a' + byte(rand.IntN(26))
		}
		return string(b)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	post := func(i int) (int, string) {
		var msgs []string
		var ids []string
		for j := 0; j < 40; j++ {
			id := fmt.Sprintf("full-%d-%d", i, j)
			ids = append(ids, id)
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"E","anonymousId":"a","messageId":%q,"properties":{"pad":%q}}`, id, pad()))
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(msgs, ",")+`]}`))
		req.SetBasicAuth(np.ServerKey, "")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == 200 {
			mu.Lock()
			for _, id := range ids {
				acked[id] = true
			}
			mu.Unlock()
		}
		return res.StatusCode, res.Header.Get("Retry-After")
	}
	// Fill the disk faster than the packer (1 round/s) can empty it: 8
	// senders, until one of them sees 503.
	var saw503 atomic.Bool
	var bad atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500 && !saw503.Load(); i++ {
				switch code, retry := post(w*1000 + i); {
				case code == 503 && retry != "":
					saw503.Store(true)
				case code != 200:
					bad.Store(int64(code))
				}
			}
		}(w)
	}
	wg.Wait()
	if c := bad.Load(); c != 0 {
		t.Fatalf("unexpected status %d (or 503 without Retry-After)", c)
	}
	if !saw503.Load() {
		t.Fatal("never saw 503 although the log's disk is 3 MB")
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Fatal("server unhealthy after disk full")
	}
	// The packer moves records out and trims whole segments: space returns.
	recovered := false
	for i := 0; i < 100 && !recovered; i++ {
		time.Sleep(200 * time.Millisecond)
		if code, _ := post(100000 + i); code == 200 {
			recovered = true
		}
	}
	if !recovered {
		t.Fatalf("ingest did not recover after the packer freed space\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	r := mustVeil(t, nil, "export", "events", "--project", np.ProjectID, "--data", dir)
	stored := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m struct{ MessageID string }
		json.Unmarshal([]byte(line), &m)
		stored[m.MessageID]++
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("acknowledged %s stored %d times", id, stored[id])
		}
	}
	t.Logf("disk full: %d messages acknowledged, all stored once; 503 seen, recovered", len(acked))
}
