package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// genSession is a generated 30-minute rrweb recording in 60-second
// segments: a 1,500-element page (a new one every 5 minutes, each with a
// Meta event and a full snapshot), mouse moves every 500 ms, a mutation
// every 2 s, a scroll every 7 s, a click every 15 s, an input every 30 s,
// console messages and requests; 3 idle minutes from 12:00 to 15:00.
func genSession(start int64, minutes int) [][]string {
	var segs [][]string
	var cur []string
	id := 0
	next := func() int { id++; return id }
	var texts []int
	snapshot := func(ts int64, page int) {
		cur = append(cur, fmt.Sprintf(`{"type":4,"data":{"href":"https://shop.example.com/p/%d","width":1280,"height":800},"timestamp":%d}`, page, ts))
		texts = texts[:0]
		var rows []string
		for i := 0; i < 1500; i++ {
			el, tx := next(), next()
			texts = append(texts, tx)
			rows = append(rows, fmt.Sprintf(`{"type":2,"id":%d,"tagName":"div","attributes":{"class":"row r%d"},"childNodes":[{"type":3,"id":%d,"textContent":"***** ****** %d ** ******* ****"}]}`, el, i%7, tx, i))
		}
		html, head, style, css, body := next(), next(), next(), next(), next()
		cur = append(cur, fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"id":%d,"childNodes":[{"type":2,"id":%d,"tagName":"html","attributes":{},"childNodes":[`+
			`{"type":2,"id":%d,"tagName":"head","attributes":{},"childNodes":[{"type":2,"id":%d,"tagName":"style","attributes":{},"childNodes":[{"type":3,"id":%d,"textContent":".row{padding:4px 12px;border-bottom:1px solid #dde}.r3{background:#f4f5f7}","isStyle":true}]}]},`+
			`{"type":2,"id":%d,"tagName":"body","attributes":{},"childNodes":[%s]}]}]},"initialOffset":{"left":0,"top":0}},"timestamp":%d}`,
			next(), html, head, style, css, body, strings.Join(rows, ","), ts+5))
	}
	end := start + int64(minutes)*60_000
	page := 0
	snapshot(start, page)
	segEnd := start + 60_000
	for ts := start + 500; ts < end; ts += 500 {
		if ts >= segEnd {
			if len(cur) > 0 {
				segs = append(segs, cur)
			}
			cur = nil
			segEnd += 60_000
		}
		off := ts - start
		if off >= 12*60_000 && off < 15*60_000 {
			continue // the viewer walked away
		}
		if off%300_000 == 0 {
			page++
			snapshot(ts, page)
			continue
		}
		var pos []string
		for i := 0; i < 5; i++ {
			pos = append(pos, fmt.Sprintf(`{"x":%d,"y":%d,"id":%d,"timeOffset":%d}`, (off/7+int64(i)*13)%1200, (off/11+int64(i)*7)%780, texts[0], -400+i*100))
		}
		cur = append(cur, fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[%s]},"timestamp":%d}`, strings.Join(pos, ","), ts))
		if off%2000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":3,"data":{"source":0,"texts":[{"id":%d,"value":"****** %d"}],"attributes":[],"removes":[],"adds":[]},"timestamp":%d}`, texts[int(off/2000)%len(texts)], off, ts))
		}
		if off%7000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":3,"data":{"source":3,"id":%d,"x":0,"y":%d},"timestamp":%d}`, texts[0]-1, off%4000, ts))
		}
		if off%15000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":3,"data":{"source":2,"type":2,"id":%d,"x":300,"y":200},"timestamp":%d}`, texts[3]-1, ts))
		}
		if off%30000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":3,"data":{"source":5,"text":"********","isChecked":false,"id":%d},"timestamp":%d}`, texts[5]-1, ts))
		}
		if off%60000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"warn","trace":[],"payload":["\"slow render %d\""]}},"timestamp":%d}`, off, ts))
		}
		if off%20000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":6,"data":{"plugin":"veil/network@1","payload":{"type":"fetch","method":"GET","url":"https://shop.example.com/api/items","status":200,"duration":%d}},"timestamp":%d}`, 20+off%90, ts))
		}
		if off%420000 == 0 {
			cur = append(cur, fmt.Sprintf(`{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"error","trace":[],"payload":["\"TypeError: x is undefined\""]}},"timestamp":%d}`, ts))
		}
	}
	return append(segs, cur)
}

// upload sends a recording's segments to /v1/replay with the server key.
func (v *veilServer) upload(t *testing.T, sid string, segs [][]string) (sent int) {
	t.Helper()
	for seq, evs := range segs {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		body := `{"events":[` + strings.Join(evs, ",") + `],"meta":{"url":"https://shop.example.com/p/0"}}`
		sent += len(body)
		io.WriteString(zw, body)
		zw.Close()
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/replay?session=%s&seq=%d", v.base, sid, seq), &gz)
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(v.demo.ServerKey+":")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("upload %s/%d: %d %s", sid, seq, resp.StatusCode, b)
		}
	}
	return sent
}

// login returns a client logged in to the dashboard as the demo user.
func (v *veilServer) login(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(v.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on /login")
	}
	form := url.Values{"email": {v.demo.Email}, "password": {v.demo.Password}, "csrf_token": {string(m[1])}}
	req, _ := http.NewRequest("POST", v.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if resp, err = c.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()
	return c
}

// rss is the resident set of process pid, in bytes.
func rss(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// heap is the server's go_memstats_heap_inuse_bytes from /metrics.
func (v *veilServer) heap() int64 {
	resp, err := http.Get(v.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "go_memstats_heap_inuse_bytes" {
			x, _ := strconv.ParseFloat(f[1], 64)
			return int64(x)
		}
	}
	return -1
}

// streamAll has n clients read replay.ndjson of sids[i%len] at once,
// sampling the server's RSS and heap meanwhile.
func streamAll(t *testing.T, v *veilServer, c *http.Client, base string, sids []string, n int) (peakRSS, peakHeap int64, took []time.Duration, lines []int) {
	t.Helper()
	took, lines = make([]time.Duration, n), make([]int, n)
	stop := make(chan struct{})
	var wg, sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if r := rss(v.cmd.Process.Pid); r > peakRSS {
				peakRSS = r
			}
			if h := v.heap(); h > peakHeap {
				peakHeap = h
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t0 := time.Now()
			resp, err := c.Get(base + "/" + sids[i%len(sids)] + "/replay.ndjson")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				lines[i]++
			}
			took[i] = time.Since(t0)
		}(i)
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	return peakRSS, peakHeap, took, lines
}

// TestPlayerBenchmarks measures (never asserts) the player's time to first
// frame on a 30-minute session and the server's memory while 10 players
// stream 30-minute sessions at once. VEIL_BENCH=1 runs it; the figures go
// to docs/dashboard.md.
func TestPlayerBenchmarks(t *testing.T) {
	if os.Getenv("VEIL_BENCH") == "" {
		t.Skip("set VEIL_BENCH=1 to measure the player and replay streaming")
	}
	node, chromium := requireChromium(t)
	v := startVeil(t)
	start := time.Now().Add(-40*time.Minute).UnixMilli() / 1000 * 1000
	var sids []string
	want := 0
	for i := 0; i < 10; i++ {
		sid := fmt.Sprintf("bench30m%02d", i)
		segs := genSession(start+int64(i)*1000, 30)
		want = len(segs)
		n := 0
		for _, s := range segs {
			n += len(s)
		}
		b := v.upload(t, sid, segs)
		if i == 0 {
			t.Logf("generated session: %d events in %d segments, %.1f MB of JSON", n, len(segs), float64(b)/1e6)
		}
		sids = append(sids, sid)
	}
	c := v.login(t)
	base := "/orgs/" + v.demo.OrgID + "/projects/" + v.demo.ProjectID + "/sessions"
	segRE := regexp.MustCompile(`in (\d+) segments`)
	for _, sid := range sids {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			resp, err := c.Get(v.base + base + "/" + sid)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := segRE.FindSubmatch(b); m != nil && string(m[1]) == strconv.Itoa(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not packed: %d", sid, resp.StatusCode)
			}
		}
	}

	// Time to first frame in Chromium: a new tab on each of 8 sessions,
	// then two links to 25:00.
	var pages []string
	for _, sid := range sids[:8] {
		pages = append(pages, base+"/"+sid)
	}
	pages = append(pages, base+"/"+sids[8]+"?t=25m", base+"/"+sids[9]+"?t=25m")
	arg, _ := json.Marshal(map[string]any{"chromium": chromium, "base": v.base, "email": v.demo.Email, "password": v.demo.Password, "pages": pages})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/ttff.mjs", string(arg)).Output()
	if err != nil {
		t.Fatalf("ttff.mjs: %v %s", err, out)
	}
	var res struct {
		Error string
		Runs  []struct {
			Path                                                           string
			FirstFrame, Loaded, Seeked, DomContentLoaded, Fetch, FirstByte float64
			Status, Total, Res                                             string
			HTML                                                           float64
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
		t.Fatalf("ttff.mjs: %v %s", err, out)
	}
	var ff, seek []float64
	for _, r := range res.Runs {
		t.Logf("%s: HTML %.0f, request %.0f, first byte %.0f, first frame %.0f, all in %.0f, ?t= shown %.0f ms (%s, %s)",
			r.Path[strings.LastIndex(r.Path, "/")+1:], r.HTML, r.Fetch, r.FirstByte, r.FirstFrame, r.Loaded, r.Seeked, r.Status, r.Total)
		if r.Seeked > 0 {
			seek = append(seek, r.Seeked)
		} else {
			ff = append(ff, r.FirstFrame)
		}
	}
	sort.Float64s(ff)
	sort.Float64s(seek)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("time to first frame (navigation start → painted), %d tabs: min %.0f ms, median %.0f ms, max %.0f ms; ?t=25m shown: %v ms; load average %s",
		len(ff), ff[0], ff[len(ff)/2], ff[len(ff)-1], seek, strings.Join(strings.Fields(string(load))[:3], " "))

	// Server memory while 10 players stream at once.
	runtimeIdle := rss(v.cmd.Process.Pid)
	t.Logf("server idle: RSS %.1f MB, heap in use %.1f MB", float64(runtimeIdle)/1e6, float64(v.heap())/1e6)
	for _, tc := range []struct {
		name string
		sids []string
	}{{"10 different sessions", sids}, {"the same session 10 times", sids[:1]}} {
		peak, heap, took, lines := streamAll(t, v, c, v.base+base, tc.sids, 10)
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		t.Logf("%s: peak RSS %.1f MB, peak heap in use %.1f MB; each stream %d lines, %v–%v", tc.name, float64(peak)/1e6, float64(heap)/1e6,
			lines[0], took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
}
