package wal_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/wal"
)

// The crash test re-runs this test binary as a child that appends from
// several goroutines and prints "ack LSN ID" for every acknowledged record;
// the parent SIGKILLs it at a random moment, reopens the log and checks
// that every acknowledged record is there, once, intact.
const (
	crashDirEnv   = "VEIL_WAL_CRASH_DIR"
	crashRoundEnv = "VEIL_WAL_CRASH_ROUND"
	crashSeedEnv  = "VEIL_WAL_CRASH_SEED" // set to vary the kill times
)

var crashOpts = wal.Options{SegmentSize: 256 << 10}

// crashRecord is the record with the given id: the id, a bar, and bytes
// derived from the id, 10 B to 20 KB.
func crashRecord(id string) []byte {
	h := fnv.New32a()
	h.Write([]byte(id))
	sum := int(h.Sum32())
	return append([]byte(id+"|"), payload(sum, 10+sum%20000)...)
}

func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashRoundEnv))
		return
	}
	seed := uint64(1)
	if s := os.Getenv(crashSeedEnv); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	rnd := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	acked := map[string]wal.LSN{} // every acknowledged record, all rounds
	var totalAcked, totalExtra, totalTruncated int64
	for round := range rounds {
		kill := time.Duration(5+rnd.IntN(300)) * time.Millisecond
		acks, stderr := runAndKill(t, dir, round, kill)
		for id, lsn := range acks {
			acked[id] = lsn
		}

		l, err := wal.Open(dir, wal.Options{SegmentSize: crashOpts.SegmentSize, Logger: quiet})
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v\nchild stderr:\n%s", round, err, stderr)
		}
		seen := map[string]wal.LSN{}
		err = l.Replay(0, func(lsn wal.LSN, rec []byte) error {
			id, _, ok := bytes.Cut(rec, []byte("|"))
			if !ok || !bytes.Equal(rec, crashRecord(string(id))) {
				return fmt.Errorf("LSN %d: record damaged", lsn)
			}
			if prev, dup := seen[string(id)]; dup {
				return fmt.Errorf("record %s at LSN %d and %d", id, prev, lsn)
			}
			seen[string(id)] = lsn
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: Replay: %v", round, err)
		}
		for id, lsn := range acked {
			if got, ok := seen[id]; !ok || got != lsn {
				t.Fatalf("round %d: acknowledged record %s (LSN %d) missing or moved (found at %d)", round, id, lsn, got)
			}
		}
		s := l.Stats()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		extra := len(seen) - len(acked) - int(totalExtra)
		t.Logf("round %d: killed after %v: %d acknowledged, %d more written but not acknowledged, torn tail %d bytes, %d records in %d segments",
			round, kill, len(acks), extra, s.TruncatedBytes, len(seen), s.Segments)
		totalAcked += int64(len(acks))
		totalExtra += int64(extra)
		totalTruncated += s.TruncatedBytes
	}
	t.Logf("seed %d, %d rounds: %d records acknowledged, all present once and intact; %d unacknowledged records kept; %d torn bytes truncated",
		seed, rounds, totalAcked, totalExtra, totalTruncated)
	if totalAcked == 0 {
		t.Error("no record was acknowledged in any round")
	}
}

// runAndKill runs the child for about d, SIGKILLs it and returns the
// acknowledgements it printed.
func runAndKill(t *testing.T, dir string, round int, d time.Duration) (map[string]wal.LSN, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := map[string]wal.LSN{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ack" {
				continue // a line cut by the kill, or test output
			}
			lsn, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				continue
			}
			acks[f[2]] = wal.LSN(lsn)
		}
	}()
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed: %v\n%s", err, stderr.String())
	}
	return acks, stderr.String()
}

// crashChild appends until killed (or 30 s pass).
func crashChild(dir, round string) {
	opts := crashOpts
	// Odd rounds skip fdatasync: writes then follow each other so fast that
	// kills land mid-write more often (a process crash loses nothing that
	// write(2) accepted, so acknowledged records must survive all the same).
	if r, _ := strconv.Atoi(round); r%2 == 1 {
		opts.NoSync = true
	}
	l, err := wal.Open(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				n := 1 + i%3
				recs := make([][]byte, n)
				ids := make([]string, n)
				for k := range recs {
					ids[k] = fmt.Sprintf("r%s-g%d-%d-%d", round, g, i, k)
					recs[k] = crashRecord(ids[k])
				}
				lsn, err := l.Append(context.Background(), recs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				var line []byte
				for k, id := range ids {
					line = fmt.Appendf(line, "ack %d %s\n", lsn+wal.LSN(k), id)
				}
				mu.Lock()
				os.Stdout.Write(line)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(30 * time.Second)
	os.Exit(3)
}
