package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/wal"
)

// recorded is data stored through the real ingest path into a data dir.
type recorded struct {
	dir      string
	project  newProject
	sessions []string
	flags    []string // storage flags
}

// recordData creates a project in a fresh data dir and stores, through the
// ingest handlers and packer, two sessions (user u-1 and u-2) and events of
// both users.
func recordData(t *testing.T) *recorded {
	t.Helper()
	dir := t.TempDir()
	return recordDataOn(t, []string{"--data", dir}, config.Config{Data: dir})
}

// recordDataOn is recordData on the storage the flags (and the matching
// storage fields of cfg) name.
func recordDataOn(t *testing.T, flags []string, stor config.Config) *recorded {
	t.Helper()
	dir := stor.Data
	np := decode[newProject](t, mustVeil(t, nil, append([]string{"project", "create", "--name", "life", "--json"}, flags...)...).stdout)
	cfg := config.Default()
	cfg.Data, cfg.Database, cfg.MasterKeyFile = stor.Data, stor.Database, stor.MasterKeyFile
	st := openTestStorage(t, cfg)
	wl, err := wal.Open(filepath.Join(dir, "wal-test"), wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	h := ingest.New(ingest.Options{Store: st.db, Master: st.master, Log: wl, Blobs: st.blobs,
		Scrubber: scrub.MustNew(ingest.DefaultScrubRules()), Dedup: events.NewDedup(events.DefaultDedupWindow, time.Now),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, body string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.SetBasicAuth(np.ServerKey, "")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("POST %s: %v %v", path, err, res)
		}
		res.Body.Close()
	}
	rec := &recorded{dir: dir, project: np, flags: flags}
	ts := time.Now().Add(-time.Hour)
	for i, user := range []string{"u-1", "u-2"} {
		sid := fmt.Sprintf("cli-session-%d-abcdef", i+1)
		rec.sessions = append(rec.sessions, sid)
		for seq := 1; seq <= 2; seq++ {
			post(fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), fmt.Sprintf(
				`{"events":[{"type":4,"timestamp":%d,"data":{"href":"https://x.example/p"}},{"type":3,"timestamp":%d,"data":{"marker":"m-%s-%d"}}],"meta":{"userId":%q}}`,
				ts.UnixMilli(), ts.UnixMilli()+1, sid, seq, user))
		}
		post("/v1/track", fmt.Sprintf(`{"type":"track","event":"Bought","userId":%q,"properties":{"sku":"sku-%d"},"context":{"veil":{"sessionId":%q}}}`, user, i, sid))
		post("/v1/track", fmt.Sprintf(`{"type":"track","event":"Viewed","anonymousId":"anon-%s"}`, user))
	}
	p := h.NewPacker(wl, st.blobs, "node-cli-test")
	for {
		n, err := p.Round(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	return rec
}

func TestDeleteSessionCLI(t *testing.T) {
	r := recordData(t)
	d := []string{"--data", r.dir}
	sid := r.sessions[0]
	mustVeil(t, nil, append([]string{"export", "replay", "--session", sid, "--project", r.project.ProjectID}, d...)...)
	out := mustVeil(t, nil, append([]string{"delete", "session", sid, "--project", r.project.ProjectID, "--compact"}, d...)...)
	if !strings.Contains(out.stdout, "deleted session "+sid) {
		t.Fatalf("delete output: %s", out.stdout)
	}
	if res := runVeil(t, nil, append([]string{"export", "replay", "--session", sid, "--project", r.project.ProjectID}, d...)...); res.code == 0 {
		t.Fatal("export replay of a deleted session succeeded")
	}
	if res := runVeil(t, nil, append([]string{"delete", "session", sid, "--project", r.project.ProjectID}, d...)...); res.code != 1 || !strings.Contains(res.stderr, "not found") {
		t.Fatalf("second delete: %d %s", res.code, res.stderr)
	}
	if res := runVeil(t, nil, append([]string{"delete", "session", "--project", r.project.ProjectID}, d...)...); res.code != 2 {
		t.Fatalf("delete without id: %d %s", res.code, res.stderr)
	}
	other := mustVeil(t, nil, append([]string{"export", "replay", "--session", r.sessions[1], "--project", r.project.ProjectID}, d...)...)
	if !strings.Contains(other.stdout, "m-"+r.sessions[1]+"-2") {
		t.Fatalf("other session after compaction: %s", other.stdout)
	}
	audit := mustVeil(t, nil, append([]string{"audit", "export"}, d...)...)
	if !strings.Contains(audit.stdout, "session.delete") {
		t.Fatalf("audit log lacks the deletion:\n%s", audit.stdout)
	}
}

func TestRetentionCLI(t *testing.T) {
	r := recordData(t)
	d := []string{"--data", r.dir}
	pid := r.project.ProjectID
	show := mustVeil(t, nil, append([]string{"retention", "show", "--project", pid}, d...)...)
	if !strings.Contains(show.stdout, "replays kept 0 day(s) (default)") || !strings.Contains(show.stdout, "would delete now: 0 session(s)") {
		t.Fatalf("show: %s", show.stdout)
	}
	// Data is an hour old: with 0 days nothing goes, and a dry run of any
	// positive setting keeps it too (it is younger than a day).
	dry := mustVeil(t, nil, append([]string{"retention", "set", "--project", pid, "--replays-days", "1", "--events-days", "1", "--dry-run"}, d...)...)
	if !strings.Contains(dry.stdout, "dry run") || !strings.Contains(dry.stdout, "0 session(s)") {
		t.Fatalf("dry run: %s", dry.stdout)
	}
	if res := runVeil(t, nil, append([]string{"retention", "set", "--project", pid, "--replays-days", "-4"}, d...)...); res.code != 2 {
		t.Fatalf("negative days: %d %s", res.code, res.stderr)
	}
	odry := mustVeil(t, nil, append([]string{"retention", "set", "--org", r.project.OrgID, "--replays-days", "30", "--dry-run"}, d...)...)
	if !strings.Contains(odry.stdout, "dry run") || !strings.Contains(odry.stdout, "in total: 0 session(s)") || !strings.Contains(odry.stdout, "replays kept 30 day(s) (org)") {
		t.Fatalf("org dry run: %s", odry.stdout)
	}
	mustVeil(t, nil, append([]string{"retention", "set", "--org", r.project.OrgID, "--replays-days", "30"}, d...)...)
	mustVeil(t, nil, append([]string{"retention", "set", "--project", pid, "--events-days", "7"}, d...)...)
	pv := decode[map[string]any](t, mustVeil(t, nil, append([]string{"retention", "show", "--project", pid, "--json"}, d...)...).stdout)
	pol := pv["policy"].(map[string]any)
	if pol["replay_days"] != 30.0 || pol["replay_from"] != "org" || pol["event_days"] != 7.0 || pol["event_from"] != "project" {
		t.Fatalf("policy: %v", pol)
	}
	run := mustVeil(t, nil, append([]string{"retention", "run"}, d...)...)
	if !strings.Contains(run.stdout, "0 session(s)") {
		t.Fatalf("run: %s", run.stdout)
	}
}

func TestEraseAndExportUserCLI(t *testing.T) {
	r := recordData(t)
	d := []string{"--data", r.dir}
	pid := r.project.ProjectID
	out := filepath.Join(t.TempDir(), "u1.zip")
	mustVeil(t, nil, append([]string{"export", "user", "--project", pid, "--user-id", "u-1", "--out", out}, d...)...)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if !slices.Contains(names, "events.jsonl") || !slices.Contains(names, "sessions/"+r.sessions[0]+".json") || slices.Contains(names, "sessions/"+r.sessions[1]+".json") {
		t.Fatalf("archive files: %v", names)
	}
	res := mustVeil(t, nil, append([]string{"erase", "--project", pid, "--user-id", "u-1"}, d...)...)
	cert := decode[map[string]any](t, res.stdout)
	del := cert["deleted"].(map[string]any)
	if del["sessions"] != 1.0 || del["events"] != 1.0 || strings.Contains(res.stdout, "u-1") {
		t.Fatalf("certificate: %s", res.stdout)
	}
	if res := runVeil(t, nil, append([]string{"export", "replay", "--session", r.sessions[0], "--project", pid}, d...)...); res.code == 0 {
		t.Fatal("erased session still exports")
	}
	ev := mustVeil(t, nil, append([]string{"export", "events", "--project", pid}, d...)...)
	if strings.Contains(ev.stdout, `"u-1"`) || !strings.Contains(ev.stdout, `"u-2"`) {
		t.Fatalf("events after erase:\n%s", ev.stdout)
	}
	if res := runVeil(t, nil, append([]string{"erase", "--project", pid}, d...)...); res.code != 2 {
		t.Fatalf("erase without user: %d", res.code)
	}
}

// TestBackupVerifyRestore is the restore drill, into a directory and
// into a real S3 server: backup → deletion after it (kept in the ledger)
// → wipe → restore → every session and event readable, the deleted one
// not; then a corrupted backup file is detected by verify.
func TestBackupVerifyRestore(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			r := recordData(t)
			d := []string{"--data", r.dir}
			pid := r.project.ProjectID
			btarget := filepath.Join(t.TempDir(), "backup")
			if kind == "s3" {
				btarget = testenv.S3BlobURL(t, "drill/"+filepath.Base(r.dir))
			}
			bucket, err := lifecycle.OpenBackupTarget(context.Background(), btarget)
			if err != nil {
				t.Fatal(err)
			}
			mustVeil(t, nil, append([]string{"backup", "create", "--to", btarget}, d...)...)
			if res := runVeil(t, nil, append([]string{"backup", "create", "--to", btarget}, d...)...); res.code != 1 || !strings.Contains(res.stderr, "not empty") {
				t.Fatalf("backup into a non-empty target: %d %s", res.code, res.stderr)
			}
			// Every object at rest is sealed: no SQLite header, no JSON of events.
			var victim string
			bucket.List(context.Background(), "", func(i blob.Info) error {
				if strings.HasPrefix(i.Key, "blobs/") && victim == "" {
					victim = i.Key
				}
				if i.Key == "backup.json" {
					return nil
				}
				b, _ := bucket.Get(context.Background(), i.Key)
				if bytes.Contains(b, []byte("SQLite format 3")) || bytes.Contains(b, []byte(pid)) || bytes.Contains(b, []byte("u-1")) {
					t.Errorf("%s holds clear data", i.Key)
				}
				return nil
			})
			v := mustVeil(t, nil, append([]string{"backup", "verify", btarget}, d...)...)
			if !strings.Contains(v.stdout, "2 session(s)") {
				t.Fatalf("verify: %s", v.stdout)
			}

			// A deletion after the backup, kept in the ledger outside it.
			mustVeil(t, nil, append([]string{"delete", "session", r.sessions[0], "--project", pid}, d...)...)
			ledger := filepath.Join(t.TempDir(), "ledger.jsonl")
			os.WriteFile(ledger, []byte(mustVeil(t, nil, append([]string{"delete", "ledger"}, d...)...).stdout), 0o600)

			// Disaster: restore into a new directory with the (separately kept) master key.
			keyFile := filepath.Join(t.TempDir(), "master.key")
			kb, _ := os.ReadFile(filepath.Join(r.dir, "master.key"))
			os.WriteFile(keyFile, kb, 0o600)
			os.RemoveAll(r.dir)
			nd := []string{"--data", filepath.Join(t.TempDir(), "restored"), "--master-key-file", keyFile}
			if res := runVeil(t, nil, "backup", "restore", btarget, "--data", nd[1]); res.code != 1 || !strings.Contains(res.stderr, "master key") {
				t.Fatalf("restore without the master key: %d %s", res.code, res.stderr)
			}
			out := mustVeil(t, nil, append([]string{"backup", "restore", btarget, "--ledger", ledger}, nd...)...)
			if !strings.Contains(out.stdout, "1 session(s) deleted after the backup") {
				t.Fatalf("restore: %s", out.stdout)
			}
			if res := runVeil(t, nil, append([]string{"export", "replay", "--session", r.sessions[0], "--project", pid}, nd...)...); res.code == 0 {
				t.Fatal("a session deleted after the backup came back with the restore")
			}
			rep := mustVeil(t, nil, append([]string{"export", "replay", "--session", r.sessions[1], "--project", pid}, nd...)...)
			if !strings.Contains(rep.stdout, "m-"+r.sessions[1]+"-2") {
				t.Fatalf("restored replay: %s", rep.stdout)
			}
			ev := mustVeil(t, nil, append([]string{"export", "events", "--project", pid}, nd...)...)
			if strings.Count(ev.stdout, "\n") != 4 {
				t.Fatalf("restored events:\n%s", ev.stdout)
			}

			// Corrupt one blob file: verify names it and fails.
			b, err := bucket.Get(context.Background(), victim)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-5] ^= 0xff
			if err := bucket.Put(context.Background(), victim, b); err != nil {
				t.Fatal(err)
			}
			bad := runVeil(t, nil, append([]string{"backup", "verify", btarget}, nd...)...)
			if bad.code != 1 || !strings.Contains(bad.stdout, "PROBLEM "+victim) {
				t.Fatalf("verify of a corrupt backup: %d\n%s\n%s", bad.code, bad.stdout, bad.stderr)
			}
		})
	}
}

// TestServeScheduledBackups runs veil serve with a one-second backup
// schedule and keep 2, and waits until backups appear and old ones go.
func TestServeScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "backups")
	mustVeil(t, nil, "project", "create", "--name", "sched", "--data", dir)
	_, base, _, stderr := startServe(t, nil, "--data", dir, "--backup-every", "1s", "--backup-to", target, "--backup-keep", "2")
	deadline := time.Now().Add(90 * time.Second)
	var names []string
	for {
		list := runVeil(t, nil, "backup", "list", target)
		names = nil
		for _, l := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
			if strings.HasPrefix(l, "veil-backup-") {
				names = append(names, strings.Fields(l)[0])
			}
		}
		_, metrics := httpGet(t, base+"/metrics")
		if len(names) == 2 && strings.Contains(metrics, "veil_backup_last_success_timestamp_seconds") && countPruned(t, dir) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pruned scheduled backups after 90s: %v\n%s", names, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	v := mustVeil(t, nil, "backup", "verify", filepath.Join(target, names[0]), "--data", dir)
	if !strings.Contains(v.stdout, "file(s) checked") {
		t.Fatalf("verify of a scheduled backup: %s", v.stdout)
	}
	if res := runVeil(t, nil, "serve", "--data", dir, "--backup-every", "24h"); res.code != 2 || !strings.Contains(res.stderr, "--backup-to") {
		t.Fatalf("--backup-every without --backup-to: %d %s", res.code, res.stderr)
	}
}

// countPruned counts backup.prune entries in a data dir's audit log.
func countPruned(t *testing.T, dir string) int {
	out := runVeil(t, nil, "audit", "export", "--data", dir)
	return strings.Count(out.stdout, lifecycle.ActionBackupPrune)
}

func TestBackupPostgres(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "master.key")
	mustVeil(t, nil, "key", "generate-master", "--out", keyFile)
	dir := t.TempDir()
	dsn := testenv.Postgres(t)
	r := recordDataOn(t, []string{"--data", dir, "--database", dsn, "--master-key-file", keyFile},
		config.Config{Data: dir, Database: dsn, MasterKeyFile: keyFile})
	pid := r.project.ProjectID
	bdir := filepath.Join(t.TempDir(), "backup")
	mustVeil(t, nil, append([]string{"backup", "create", "--to", bdir}, r.flags...)...)
	v := mustVeil(t, nil, append([]string{"backup", "verify", bdir}, r.flags...)...)
	if !strings.Contains(v.stdout, "file(s) checked") {
		t.Fatalf("verify: %s", v.stdout)
	}
	// Restore into another, empty database and data directory.
	nd := []string{"--data", t.TempDir(), "--database", testenv.Postgres(t), "--master-key-file", keyFile}
	if res := runVeil(t, nil, "backup", "restore", bdir, "--data", t.TempDir(), "--master-key-file", keyFile); res.code != 1 || !strings.Contains(res.stderr, "--database") {
		t.Fatalf("Postgres backup restored into SQLite: %d %s", res.code, res.stderr)
	}
	mustVeil(t, nil, append([]string{"backup", "restore", bdir}, nd...)...)
	for _, sid := range r.sessions {
		rep := mustVeil(t, nil, append([]string{"export", "replay", "--session", sid, "--project", pid}, nd...)...)
		if !strings.Contains(rep.stdout, "m-"+sid+"-2") {
			t.Fatalf("restored replay %s: %s", sid, rep.stdout)
		}
	}
	ev := mustVeil(t, nil, append([]string{"export", "events", "--project", pid}, nd...)...)
	if strings.Count(ev.stdout, "\n") != 4 {
		t.Fatalf("restored events:\n%s", ev.stdout)
	}
}
