package web_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestEventExplorer(t *testing.T) {
	d := newDataEnv(t, testRecording)
	b := d.login("viewer")
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/events"
	resp, body := b.get(base)
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"12 events", "Signed Up", "page: Home", "<svg class=\"chart\"", "user-2", "anon-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("events page lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`<rect x=`).FindAllString(body, -1)); n != 6 {
		t.Errorf("%d bars, want 6 (2 names x 3 days)", n)
	}
	if !strings.Contains(body, "Signed Up: 3</title>") {
		t.Error("no bar for 3 sign-ups on the oldest day")
	}
	_, body = b.get(base + "?name=Signed+Up")
	if !strings.Contains(body, "6 events") || strings.Contains(body, "anon-1") {
		t.Errorf("name filter:\n%s", body)
	}
	_, body = b.get(base + "?user=user-1")
	if !strings.Contains(body, "2 events") {
		t.Errorf("user filter")
	}
	link := regexp.MustCompile(`href="(` + regexp.QuoteMeta(base) + `/m-1-0\?t=[^"]+)"`).FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no link to m-1-0:\n%s", body)
	}
	resp, body = b.get(strings.ReplaceAll(link[1], "&amp;", "&"))
	if resp.StatusCode != 200 || !strings.Contains(body, "&#34;plan&#34;: &#34;pro&#34;") {
		t.Errorf("event page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := b.get(base + "?from=2020-01-01&to=2021-01-01"); resp.StatusCode != 400 {
		t.Errorf("a year: %d, want 400", resp.StatusCode)
	}
}
