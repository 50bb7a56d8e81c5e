package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/wal"
)

// canaries are personal values planted in the source data; none may
// appear anywhere in an anonymized copy.
var canaries = []string{"Zelda", "Quartermaine", "canary-uid-7f3a", "canary-anon-19", "Bartholomew", "203.0.113.77",
	"zelda-secret-input", "tooltipcanary", "alttextcanary", "placeholdercanary", "arialabelcanary", "consolecanary",
	"custompayloadcanary", "querycanary", "mutationcanary", "notecanary", "searchcanary"}

// recordCanaries stores, through the real ingest path, three sessions of
// two users and their events, every one full of canaries.
func recordCanaries(t *testing.T) (dir, pid string, sessions []string) {
	t.Helper()
	dir = t.TempDir()
	np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "anon", "--json", "--data", dir).stdout)
	cfg := config.Default()
	cfg.Data = dir
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
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("POST %s: %v %v %s", path, err, res, b)
		}
		res.Body.Close()
	}
	ts := time.Now().Add(-time.Hour).UnixMilli()
	users := []struct{ id, anon, name string }{{"canary-uid-7f3a", "canary-anon-19", "Zelda Quartermaine"}, {"user-two-0002", "anon-two", "Bartholomew Quartermaine"}}
	for i := range 3 {
		u := users[i%2]
		sid := fmt.Sprintf("anon-session-%d-abcdef", i+1)
		sessions = append(sessions, sid)
		snap := fmt.Sprintf(`{"type":2,"timestamp":%d,"data":{"node":{"type":0,"id":1,"childNodes":[
			{"type":1,"id":2,"name":"html","publicId":"","systemId":""},
			{"type":2,"id":3,"tagName":"html","attributes":{"lang":"en"},"childNodes":[
			 {"type":2,"id":4,"tagName":"style","attributes":{},"childNodes":[{"type":3,"id":5,"textContent":".hello{color:red}","isStyle":true}]},
			 {"type":2,"id":6,"tagName":"p","attributes":{"class":"hello","title":"tooltipcanary Zelda"},"childNodes":[{"type":3,"id":7,"textContent":"Hello %s, welcome back"}]},
			 {"type":2,"id":8,"tagName":"img","attributes":{"alt":"alttextcanary","src":"https://cdn.example.com/u/Zelda.png?who=querycanary"},"childNodes":[]},
			 {"type":2,"id":9,"tagName":"input","attributes":{"type":"text","value":"zelda-secret-input","placeholder":"placeholdercanary","aria-label":"arialabelcanary"},"childNodes":[]}
			]}]},"initialOffset":{"left":0,"top":0}}}`, ts, u.name)
		post(fmt.Sprintf("/v1/replay?session=%s&seq=1", sid), fmt.Sprintf(`{"events":[
			{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/account/zelda?email=querycanary","width":800,"height":600}},%s,
			{"type":3,"timestamp":%d,"data":{"source":5,"text":"zelda-secret-input typed","isChecked":false,"id":9}},
			{"type":3,"timestamp":%d,"data":{"source":0,"texts":[{"id":7,"value":"mutationcanary Zelda"}],"attributes":[{"id":6,"attributes":{"title":"tooltipcanary again"}}],"removes":[],"adds":[]}},
			{"type":6,"timestamp":%d,"data":{"plugin":"rrweb/console@1","payload":{"level":"log","payload":["\"consolecanary Zelda\""],"trace":[]}}},
			{"type":5,"timestamp":%d,"data":{"tag":"note","payload":{"who":"custompayloadcanary"}}}
			],"meta":{"userId":%q}}`, ts, snap, ts+10, ts+20, ts+30, ts+40, u.id))
		post("/v1/track", fmt.Sprintf(`{"type":"track","event":"Bought","userId":%q,"anonymousId":%q,
			"properties":{"note":"notecanary for %s","total":42},
			"context":{"ip":"203.0.113.77","veil":{"sessionId":%q},"page":{"url":"https://shop.example.com/users/zelda?q=searchcanary","title":"Zelda's cart"}}}`, u.id, u.anon, u.name, sid))
	}
	for _, u := range users {
		post("/v1/identify", fmt.Sprintf(`{"type":"identify","userId":%q,"anonymousId":%q,"traits":{"name":%q,"plan":"gold"}}`, u.id, u.anon, u.name))
	}
	p := h.NewPacker(wl, st.blobs, "node-anon-test")
	for {
		n, err := p.Round(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	return dir, np.ProjectID, sessions
}

func findCanary(s string) string {
	low := strings.ToLower(s)
	for _, c := range canaries {
		if strings.Contains(low, strings.ToLower(c)) {
			return c
		}
	}
	return ""
}

func TestAnonymize(t *testing.T) {
	src, pid, sessions := recordCanaries(t)
	srcEvents := mustVeil(t, nil, "export", "events", "--project", pid, "--data", src).stdout
	if findCanary(srcEvents) == "" {
		t.Fatal("the source data holds no canary: the test plants nothing")
	}
	to := filepath.Join(t.TempDir(), "staging")
	res := mustVeil(t, nil, "anonymize", "--from", src, "--to", to, "--json")
	var out struct {
		Copy struct{ Sessions, Events int }
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out.Copy.Sessions != 3 {
		t.Fatalf("anonymize: %v %s %s", err, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "anonymize: project 1/1") {
		t.Fatalf("no progress on stderr: %s", res.stderr)
	}
	if res := runVeil(t, nil, "anonymize", "--from", src, "--to", to); res.code != 1 || !strings.Contains(res.stderr, "not empty") {
		t.Fatalf("anonymize into a used directory: %d %s", res.code, res.stderr)
	}
	// No canary in any file of the copy (database, blobs, key).
	filepath.WalkDir(to, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if c := findCanary(string(b)); c != "" {
			t.Errorf("%s holds %q", p, c)
		}
		return nil
	})
	// Nor in anything the copy decrypts to; counts match the source.
	d := []string{"--data", to}
	evs := mustVeil(t, nil, append([]string{"export", "events", "--project", pid}, d...)...).stdout
	if c := findCanary(evs); c != "" {
		t.Fatalf("copied events hold %q:\n%s", c, evs)
	}
	if strings.Count(evs, "\n") != strings.Count(srcEvents, "\n") {
		t.Fatalf("event count: copy %d, source %d", strings.Count(evs, "\n"), strings.Count(srcEvents, "\n"))
	}
	// Same user, same fake, across events; different users, different fakes.
	fakes := map[string]map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(evs), "\n") {
		var m struct {
			UserID, AnonymousID, Event string
			Context                    struct{ IP string }
		}
		json.Unmarshal([]byte(l), &m)
		if fakes[m.UserID] == nil {
			fakes[m.UserID] = map[string]bool{}
		}
		fakes[m.UserID][m.AnonymousID] = true
		if m.Context.IP != "" && !strings.HasPrefix(m.Context.IP, "10.") {
			t.Errorf("ip not faked: %s", m.Context.IP)
		}
	}
	if len(fakes) != 2 {
		t.Fatalf("want 2 fake users, got %v", fakes)
	}
	for u, anons := range fakes {
		if len(anons) != 1 || !strings.HasPrefix(u, "u-") {
			t.Fatalf("user %s: anonymous ids %v (want one consistent fake)", u, anons)
		}
	}
	for _, sid := range sessions {
		before := mustVeil(t, nil, "export", "replay", "--session", sid, "--project", pid, "--data", src).stdout
		after := mustVeil(t, nil, append([]string{"export", "replay", "--session", sid, "--project", pid}, d...)...).stdout
		if c := findCanary(after); c != "" {
			t.Fatalf("copied replay %s holds %q:\n%s", sid, c, after)
		}
		var b, a []map[string]any
		if err := json.Unmarshal([]byte(before), &b); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(after), &a); err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("session %s: %d events, source %d", sid, len(a), len(b))
		}
		for i := range a {
			if a[i]["type"] != b[i]["type"] || a[i]["timestamp"] != b[i]["timestamp"] {
				t.Fatalf("session %s event %d: structure changed", sid, i)
			}
		}
		// Text is masked length for length; CSS and tags stay.
		if !regexp.MustCompile(`"textContent":"\*{5} (\*{5}|\*{11}) \*{13} \*{7} \*{4}"`).MatchString(after) ||
			!strings.Contains(after, ".hello{color:red}") || !strings.Contains(after, `"tagName":"input"`) {
			t.Fatalf("session %s not masked as expected:\n%s", sid, after)
		}
	}
	// The sessions' blind indexes were recomputed for the fake ids: a
	// user's export in the copy finds their sessions.
	for u := range fakes {
		zf := filepath.Join(t.TempDir(), "u.zip")
		mustVeil(t, nil, append([]string{"export", "user", "--project", pid, "--user-id", u, "--out", zf}, d...)...)
		zr, err := zip.OpenReader(zf)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, "sessions/") {
				n++
			}
		}
		zr.Close()
		if n == 0 {
			t.Fatalf("user %s: no session found in the copy through the blind index", u)
		}
	}
	// The source is untouched.
	if after := mustVeil(t, nil, "export", "events", "--project", pid, "--data", src).stdout; after != srcEvents {
		t.Fatal("anonymize changed the source")
	}
}

// TestAnonymizeFromPostgres copies a Postgres-backed installation into a
// new embedded data directory.
func TestAnonymizeFromPostgres(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "master.key")
	mustVeil(t, nil, "key", "generate-master", "--out", keyFile)
	dir := t.TempDir()
	dsn := testenv.Postgres(t)
	r := recordDataOn(t, []string{"--data", dir, "--database", dsn, "--master-key-file", keyFile},
		config.Config{Data: dir, Database: dsn, MasterKeyFile: keyFile})
	to := filepath.Join(t.TempDir(), "staging")
	mustVeil(t, nil, "anonymize", "--from", dir, "--from-database", dsn, "--from-master-key-file", keyFile, "--to", to)
	evs := mustVeil(t, nil, "export", "events", "--project", r.project.ProjectID, "--data", to).stdout
	if strings.Count(evs, "\n") != 4 || strings.Contains(evs, `"u-1"`) || strings.Contains(evs, "sku-") {
		t.Fatalf("copied events:\n%s", evs)
	}
	for _, sid := range r.sessions {
		rep := mustVeil(t, nil, "export", "replay", "--session", sid, "--project", r.project.ProjectID, "--data", to).stdout
		if !strings.Contains(rep, `"marker":"`) || strings.Contains(rep, "m-"+sid) {
			t.Fatalf("copied replay %s: %s", sid, rep)
		}
	}
}
