package events

import (
	"testing"
	"time"
)

func TestDedupHas(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	d := NewDedup(DefaultDedupWindow, func() time.Time { return now })
	for i := 0; i < 1000; i++ {
		id := string(rune('a'+i%26)) + time.Duration(i).String()
		if d.Has("p1", id) {
			t.Fatalf("Has(%q) before Add", id)
		}
		d.Add("p1", id, now)
		if !d.Has("p1", id) {
			t.Fatalf("Has(%q) false after Add", id)
		}
		if d.Has("p2", id) {
			t.Fatalf("Has(%q) true for another project", id)
		}
	}
	now = now.Add(DefaultDedupWindow + 2*time.Hour)
	if d.Has("p1", "a0s") {
		t.Fatal("id remembered past the window")
	}
	if d.Window() < DefaultDedupWindow {
		t.Fatalf("Window() = %v", d.Window())
	}
}
