package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDashboardReplay runs the real binary end to end: a replay sent to
// /v1/replay is listed on the sessions page (found by user id through the
// blind index) and comes back, decrypted and sanitized, from replay.ndjson;
// the view is in the audit log.
func TestDashboardReplay(t *testing.T) {
	dir := t.TempDir()
	_, base, _, stderr := startServe(t, []string{"VEIL_DATA=" + dir}, "--demo")
	var demo struct {
		OrgID     string `json:"org_id"`
		ProjectID string `json:"project_id"`
		Email     string `json:"email"`
		Password  string `json:"password"`
		ServerKey string `json:"server_key"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil {
		t.Fatalf("demo credentials: %v %s", err, b)
	}
	events := `[{"type":4,"data":{"href":"https://shop.example.com/x","width":800,"height":600},"timestamp":1700000000000},` +
		`{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"html","attributes":{},"childNodes":[` +
		`{"type":2,"id":3,"tagName":"body","attributes":{},"childNodes":[{"type":2,"id":4,"tagName":"script","attributes":{"src":"https://evil.example/x.js"},"childNodes":[]},` +
		`{"type":3,"id":5,"textContent":"*****"}]}]}]},"initialOffset":{"left":0,"top":0}},"timestamp":1700000000010}]`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"events":`+events+`,"meta":{"url":"https://shop.example.com/checkout","userId":"jane-1"}}`)
	zw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/replay?session=ses_dash1&seq=0", &gz)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(demo.ServerKey+":")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replay upload: %v %v", err, resp)
	}
	resp.Body.Close()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, body := get("/login")
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	form := url.Values{"email": {demo.Email}, "password": {demo.Password}, "csrf_token": {csrf[1]}}
	req, _ = http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "null") // what Chromium sends under Referrer-Policy: no-referrer
	if resp, err = c.Do(req); err != nil || resp.StatusCode != 303 {
		t.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()

	p := "/orgs/" + demo.OrgID + "/projects/" + demo.ProjectID
	// The packer makes the segment readable shortly after the ack.
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := get(p + "/sessions/ses_dash1/replay.ndjson")
		if status == 200 && strings.Contains(body, "*****") {
			if strings.Contains(body, "script") || strings.Contains(body, "evil.example") {
				t.Errorf("replay.ndjson not sanitized: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay.ndjson: %d %s\n%s", status, body, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, body := get(p + "/sessions?user=jane-1"); !strings.Contains(body, "ses_dash1") {
		t.Error("session not found by its user id")
	}
	if _, body := get(p + "/sessions?user=someone-else"); strings.Contains(body, "ses_dash1") {
		t.Error("session found by another user id")
	}
	if status, body := get(p + "/trust"); status != 200 || !strings.Contains(body, "<td>"+demo.Email+"</td>") || !strings.Contains(body, filepath.Join(dir, "veil.db")) {
		t.Errorf("trust page: %d\n%s", status, body)
	}
}
