package sdk_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserServerConfig: a masking change saved on the server (here with
// `veil project sdk set`, as the dashboard or API would) changes what the
// SDK records in a real browser at its next start: text the page opts in
// with veil-unmask, console and network capture are recorded before and
// not after; the server never needs a new snippet.
func TestBrowserServerConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and veil serve")
	}
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	type result struct {
		Error         string
		PageErrors    []string
		CSPViolations []string
		SessionID     string
		Status        struct {
			Recording bool
			Config    string
		}
	}
	visit := func(phase string) (result, []byte) {
		t.Helper()
		var res struct{ Serverconfig result }
		h.runNode(ctx, "run.mjs", map[string]any{"chromium": h.chromium, "site": h.site, "host": h.host, "veil": h.veil,
			"key": h.key2, "scenarios": []string{"serverconfig"}}, &res)
		r := res.Serverconfig
		if r.Error != "" || len(r.PageErrors) > 0 || len(r.CSPViolations) > 0 || r.SessionID == "" || r.Status.Config != "server" {
			t.Fatalf("%s: %+v", phase, r)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		var up []byte
		for _, c := range h.captures {
			if strings.Contains(c.Query, "session="+r.SessionID) {
				up = append(up, c.Body...)
			}
		}
		if !bytes.Contains(up, []byte(`"type":2,`)) {
			t.Fatalf("%s: no full snapshot uploaded for session %s", phase, r.SessionID)
		}
		return r, up
	}

	_, before := visit("default settings")
	for _, want := range []string{"VISIBLE-CONFIG-PHRASE", "CONSOLE-CONFIG-MARK", `"veil/network@1"`} {
		if !bytes.Contains(before, []byte(want)) {
			t.Errorf("with default settings the uploads lack %s", want)
		}
	}

	file := filepath.Join(t.TempDir(), "sdk.json")
	os.WriteFile(file, []byte(`{"mask_all_text":true,"console":"off","network":"off"}`), 0o600)
	if out, err := exec.Command(h.bin, "project", "sdk", "set", "--project", h.project, "--file", file, "--data", h.dataDir).CombinedOutput(); err != nil {
		t.Fatalf("veil project sdk set: %v\n%s", err, out)
	}

	second, after := visit("server masks all text, no console, no network")
	for _, leak := range []string{"VISIBLE-CONFIG-PHRASE", "CONSOLE-CONFIG-MARK", `"veil/network@1"`, `"rrweb/console@1"`} {
		if bytes.Contains(after, []byte(leak)) {
			t.Errorf("after the server-side change the uploads still contain %s", leak)
		}
	}
	if !bytes.Contains(after, []byte(strings.Repeat("*", len("VISIBLE-CONFIG-PHRASE")))) {
		t.Error("the opted-in text is not recorded as asterisks after the change")
	}

	// Fail closed: without the project's settings no replay is recorded
	// on that page load; tracking continues.
	fetch := func(method, url string) {
		req, _ := http.NewRequest(method, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	fetch("POST", h.site+"/__mode?m=config-down")
	h.mu.Lock()
	mark := len(h.captures)
	h.mu.Unlock()
	var failed struct {
		Configfailed struct {
			Error  string
			Status struct {
				Recording bool
				Reason    string
				Config    string
				Sent      int
			}
		}
	}
	h.runNode(ctx, "run.mjs", map[string]any{"chromium": h.chromium, "site": h.site, "host": h.host, "veil": h.veil,
		"key": h.key2, "scenarios": []string{"configfailed"}}, &failed)
	fetch("POST", h.site+"/__mode?m=ok")
	st := failed.Configfailed.Status
	if failed.Configfailed.Error != "" || st.Recording || st.Config != "failed" || st.Reason != "config-unavailable" || st.Sent == 0 {
		t.Errorf("config endpoint down: %+v %s", st, failed.Configfailed.Error)
	}
	h.mu.Lock()
	for _, c := range h.captures[mark:] {
		if c.Path == "/v1/replay" {
			t.Errorf("a replay was uploaded while the config endpoint was down: %.200s", c.Body)
		}
	}
	h.mu.Unlock()

	h.stop()
	out, err := exec.Command(h.bin, "export", "replay", "--session", second.SessionID, "--data", h.dataDir).Output()
	if err != nil || !bytes.Contains(out, []byte(`"type":2`)) || bytes.Contains(out, []byte("VISIBLE-CONFIG-PHRASE")) {
		t.Errorf("stored replay after the change: %v %.300s", err, out)
	}
}
