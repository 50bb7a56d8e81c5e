package lifecycle_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/blob"
	_ "github.com/veil-privacy/veil/internal/blob/s3"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	os.Exit(code)
}

// TestBackupJob runs the scheduled backup job on a fake clock into a
// directory and into a real S3 server: a backup is made only when one is
// due, old backups beyond Keep are deleted (only Veil's), every kept
// backup opens and restores, and the metrics and audit log say so.
func TestBackupJob(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			e.replay("session-1", 1, "u-1", day0)
			e.track("u-1", "a-1", "Bought", day0)
			e.pack()
			raw := filepath.Join(t.TempDir(), "backups")
			if kind == "s3" {
				raw = testenv.S3BlobURL(t, "veil-test/"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
			}
			ctx := context.Background()
			target, err := lifecycle.OpenBackupTarget(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			// Something that is not Veil's, beside the backups: never touched.
			if err := target.Put(ctx, "notes/readme.txt", []byte("mine")); err != nil {
				t.Fatal(err)
			}
			// A run that died half-way long ago: cleaned up.
			if err := target.Put(ctx, "veil-backup-20250101T000000.000Z/db.vbk", []byte("partial")); err != nil {
				t.Fatal(err)
			}
			job := &lifecycle.BackupJob{Service: e.svc, Target: target, Dialect: "sqlite", Every: 24 * time.Hour, Keep: 2, Holder: "node-a",
				Dump: func(ctx context.Context, path string) error { return e.db.VacuumInto(ctx, path) }}
			run := func(force bool) *lifecycle.BackupRun {
				t.Helper()
				r, err := job.RunOnce(ctx, force)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if r := run(false); !r.Ran {
				t.Fatalf("first run made no backup: %+v", r)
			}
			e.clock.Advance(time.Hour)
			if r := run(false); r.Ran || r.Reason != "not due" {
				t.Fatalf("second run within the period: %+v", r)
			}
			// Another node does not run it either while the period lasts.
			other := *job
			other.Holder = "node-b"
			if r, err := other.RunOnce(ctx, false); err != nil || r.Ran {
				t.Fatalf("other node: %+v %v", r, err)
			}
			for range 3 {
				e.clock.Advance(24 * time.Hour)
				if r := run(false); !r.Ran {
					t.Fatalf("due run made no backup: %+v", r)
				}
			}
			list, other2, err := lifecycle.ListBackups(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || !slices.Equal(other2, []string{"notes"}) {
				t.Fatalf("after 4 backups with keep 2: %d complete, others %v", len(list), other2)
			}
			if got, _ := target.Get(ctx, "notes/readme.txt"); string(got) != "mine" {
				t.Fatal("pruning touched a file that is not a Veil backup")
			}
			// The newest backup opens with the master key and every file checks out.
			b, err := lifecycle.OpenBackup(ctx, lifecycle.Sub(target, list[0].Name), e.master)
			if err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			bl, err := blob.Open(ctx, dst, "")
			if err != nil {
				t.Fatal(err)
			}
			problems, err := b.Restore(ctx, func([]byte) error { return nil }, bl)
			if err != nil || len(problems) > 0 {
				t.Fatalf("restore: %v %v", problems, err)
			}
			last := metric(t, e, "veil_backup_last_success_timestamp_seconds")
			if last != float64(e.clock.Now().Unix()) {
				t.Fatalf("last success metric %v, want %v", last, e.clock.Now().Unix())
			}
			// A failing run counts, and the next attempt waits RetryAfter, not a day.
			e.clock.Advance(24 * time.Hour)
			job.Dump = func(context.Context, string) error { return os.ErrPermission }
			if _, err := job.RunOnce(ctx, false); err == nil {
				t.Fatal("failing backup reported no error")
			}
			if f := metric(t, e, "veil_backup_failures_total"); f != 1 {
				t.Fatalf("failures metric %v", f)
			}
			if r := run(false); r.Ran || r.Reason != "not due" {
				t.Fatalf("run right after a failure: %+v", r)
			}
			// A backup being written right now (no backup.json yet) is never pruned.
			fresh := "veil-backup-" + e.clock.Now().UTC().Format("20060102T150405.000Z")
			if err := target.Put(ctx, fresh+"/db.vbk", []byte("in progress")); err != nil {
				t.Fatal(err)
			}
			job.Dump = func(ctx context.Context, path string) error { return e.db.VacuumInto(ctx, path) }
			e.clock.Advance(5 * time.Minute)
			if r := run(false); !r.Ran {
				t.Fatalf("retry after a failure: %+v", r)
			}
			if _, others, _ := lifecycle.ListBackups(ctx, target); !slices.Equal(others, []string{"notes", fresh}) {
				t.Fatalf("after pruning, other prefixes: %v", others)
			}
			if acts := e.auditActions(); count(acts, lifecycle.ActionBackupCreate) != 5 || count(acts, lifecycle.ActionBackupPrune) != 4 {
				t.Fatalf("audit: %v", acts)
			}
		})
	}
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// metric returns the value of a gauge or counter without labels.
func metric(t *testing.T, e *env, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
