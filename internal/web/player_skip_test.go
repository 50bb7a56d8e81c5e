package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// idleRecording is a small page with a click at 1 s, a minute without
// input, and two clicks at 61 and 62 s.
func idleRecording() string {
	const t0 = 1700000000000
	evs := []string{
		fmt.Sprintf(`{"type":4,"data":{"href":"https://x.example/","width":800,"height":500},"timestamp":%d}`, t0),
		fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"html","attributes":{},"childNodes":[{"type":2,"id":3,"tagName":"body","attributes":{},"childNodes":[{"type":3,"id":4,"textContent":"***** *****"}]}]}]},"initialOffset":{"left":0,"top":0}},"timestamp":%d}`, t0+10),
	}
	for _, at := range []int64{1000, 61000, 62000} {
		evs = append(evs, fmt.Sprintf(`{"type":3,"data":{"source":2,"type":2,"id":3,"x":100,"y":100},"timestamp":%d}`, t0+at))
	}
	return "[" + strings.Join(evs, ",") + "]"
}

// TestPlayerSkipsInactivity: with "Skip inactivity" on (the default) the
// idle minute is shaded on the timeline and fast-forwarded during play.
func TestPlayerSkipsInactivity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	node, chromium := requireChromium(t)
	d := newDataEnv(t, idleRecording())
	arg, _ := json.Marshal(map[string]any{"chromium": chromium, "base": d.base, "email": d.users["viewer"].Email, "password": password,
		"path": "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions/ses_001"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/skip.mjs", string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node skip.mjs: %v\n%s\n%s", err, b, stderr.String())
	}
	type state struct {
		Skip, Playing bool
		Skipped, Idle int
		Position, Max float64
	}
	var out struct {
		Error         string
		Before, After state
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Error != "" {
		t.Fatalf("skip.mjs: %v %s", err, b)
	}
	if !out.Before.Skip || out.Before.Idle != 1 {
		t.Errorf("before playing: skip inactivity %v, %d idle stretches shaded (want 1)", out.Before.Skip, out.Before.Idle)
	}
	if a := out.After; a.Skipped < 1 || a.Playing || a.Position < a.Max-1000 {
		t.Errorf("after playing: %+v (want a skip and the end)", a)
	}
}
