package ingest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/wal"
)

// arriveLog runs its hook after a round has read record at (the last of
// the backlog): a record that arrives while the last round packs.
type arriveLog struct {
	ingest.Log
	at     wal.LSN
	during atomic.Pointer[func()]
}

func (a *arriveLog) Replay(from wal.LSN, fn func(wal.LSN, []byte) error) error {
	seen := false
	err := a.Log.Replay(from, func(lsn wal.LSN, b []byte) error {
		err := fn(lsn, b)
		seen = seen || lsn == a.at && err == nil
		return err
	})
	if seen {
		if f := a.during.Swap(nil); f != nil {
			(*f)()
		}
	}
	return err
}

// TestPackerRunRounds: a backlog larger than one round is packed in rounds
// that follow each other at once; a record that arrives while a round
// packs waits for the next interval (or a Kick) instead of a round of its
// own straight away, so that each round takes what a whole interval
// brought (back-to-back rounds made a pack, a database commit and their
// fsyncs for every few records).
func TestPackerRunRounds(t *testing.T) {
	e := newEnv(t, nil)
	const backlog = 40
	for i := range backlog {
		e.track(t, fmt.Sprintf("m-backlog-%02d", i), "x")
	}
	al := &arriveLog{Log: e.packer.Log, at: backlog} // one record per request, from LSN 1
	e.packer.Log = al
	e.packer.MaxBytes = 1 << 10 // a few records per round
	e.packer.Interval = time.Hour
	var arrived atomic.Bool
	late := func() {
		e.track(t, "m-during", "x")
		arrived.Store(true)
	}
	al.during.Store(&late)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.packer.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitStored := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(e.storedEvents()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("stored %d events, want %d", len(e.storedEvents()), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitStored(backlog) // without waiting an hour between rounds
	if !arrived.Load() {
		t.Fatal("no record arrived during a round")
	}
	time.Sleep(300 * time.Millisecond)
	if got := len(e.storedEvents()); got != backlog {
		t.Fatalf("the record that arrived during the last round was packed in a round of its own at once: %d stored", got)
	}
	e.packer.Kick()
	waitStored(backlog + 1)
}
