package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/veil-privacy/veil"
)

// maxEventScan bounds the messages one events page decrypts and reads.
const maxEventScan = 200_000

// storedEvent is what the explorer reads of a stored Segment message.
type storedEvent struct {
	Type        string    `json:"type"`
	Event       string    `json:"event"`
	Name        string    `json:"name"`
	UserID      string    `json:"userId"`
	AnonymousID string    `json:"anonymousId"`
	MessageID   string    `json:"messageId"`
	Timestamp   time.Time `json:"timestamp"`
	raw         []byte
}

// label is the event's name in lists and the chart: a track's event name,
// else its type (and page/screen name).
func (e *storedEvent) Label() string {
	switch {
	case e.Event != "":
		return e.Event
	case e.Name != "":
		return e.Type + ": " + e.Name
	}
	return e.Type
}

// scanEvents decrypts the project's messages in [since, until) and calls
// fn for each, oldest batch first, until fn returns false or maxEventScan
// messages were read.
func (h *Handler) scanEvents(ctx context.Context, projectID string, since, until time.Time, fn func(*storedEvent) bool) (truncated bool, err error) {
	if h.o.Replays == nil {
		return false, veil.Errorf(veil.EUNAVAILABLE, "Events are not available on this server.")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		_, err := h.o.Replays.Events(ctx, projectID, since, until, pw)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		var e storedEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Timestamp.Before(since) || !e.Timestamp.Before(until) {
			continue
		}
		e.raw = append([]byte(nil), sc.Bytes()...)
		if !fn(&e) {
			return false, nil
		}
		if n++; n >= maxEventScan {
			return true, nil
		}
	}
	return false, sc.Err()
}

type eventFilter struct{ Name, User, From, To string }

// eventList handles "GET /orgs/{org}/projects/{project}/events": the
// newest matching events and a per-day chart of counts by name.
func (h *Handler) eventList(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	f := eventFilter{Name: v.Get("name"), User: v.Get("user"), From: v.Get("from"), To: v.Get("to")}
	now := time.Now().UTC()
	since, err := parseDay(f.From, false)
	if err != nil {
		return err
	}
	until, err := parseDay(f.To, true)
	if err != nil {
		return err
	}
	if until.IsZero() {
		until = now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	if since.IsZero() {
		since = until.AddDate(0, 0, -7)
	}
	if until.Sub(since) > 92*24*time.Hour {
		return veil.Errorf(veil.EINVALID, "Choose at most 92 days.")
	}
	counts := map[string]map[string]int{} // day -> label -> n
	var recent []*storedEvent
	total := 0
	truncated, err := h.scanEvents(r.Context(), p.ID, since, until, func(e *storedEvent) bool {
		if f.Name != "" && e.Label() != f.Name || f.User != "" && e.UserID != f.User && e.AnonymousID != f.User {
			return true
		}
		total++
		day := e.Timestamp.UTC().Format("2006-01-02")
		if counts[day] == nil {
			counts[day] = map[string]int{}
		}
		counts[day][e.Label()]++
		recent = append(recent, e)
		if len(recent) > 400 {
			sort.Slice(recent, func(i, j int) bool { return recent[i].Timestamp.After(recent[j].Timestamp) })
			recent = recent[:100]
		}
		return true
	})
	if err != nil {
		return err
	}
	sort.SliceStable(recent, func(i, j int) bool { return recent[i].Timestamp.After(recent[j].Timestamp) })
	if len(recent) > 100 {
		recent = recent[:100]
	}
	return h.render(w, r, http.StatusOK, "events", page{Title: "Events · " + p.Name, Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Filter": f, "Events": recent, "Total": total, "Truncated": truncated,
		"Chart": buildChart(counts, since, until), "From": since.Format("2006-01-02"), "To": until.AddDate(0, 0, -1).Format("2006-01-02"),
	}})
}

// eventPage handles "GET /orgs/{org}/projects/{project}/events/{message}":
// one message's JSON as stored. ?t= (its timestamp) bounds the search.
func (h *Handler) eventPage(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("t"))
	if err != nil {
		return veil.Errorf(veil.EINVALID, "Open events from the events list.")
	}
	id := r.PathValue("message")
	var found *storedEvent
	if _, err := h.scanEvents(r.Context(), p.ID, t.Add(-time.Second), t.Add(time.Second), func(e *storedEvent) bool {
		if e.MessageID == id {
			found = e
			return false
		}
		return true
	}); err != nil {
		return err
	}
	if found == nil {
		return veil.Errorf(veil.ENOTFOUND, "Event not found.")
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, found.raw, "", "  ")
	return h.render(w, r, http.StatusOK, "event", page{Title: "Event " + found.Label(), Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Event": found, "JSON": pretty.String(),
	}})
}

// chart is a stacked per-day bar chart, drawn as SVG by the template.
type chart struct {
	W, H   int
	Bars   []chartRect
	Days   []chartLabel
	Legend []chartLegend
	Max    int
}

type chartRect struct {
	X, Y, W, H int
	Color      string
	Title      string
}

type chartLabel struct {
	X    int
	Text string
}

type chartLegend struct {
	Color, Name string
	Total       int
	Href        string
}

var chartColors = []string{"#3b4ed8", "#e07b39", "#2a9d8f", "#c2417a", "#8a6fdf", "#999999"}

// buildChart stacks the five commonest names per day, the rest as "other".
func buildChart(counts map[string]map[string]int, since, until time.Time) chart {
	totals := map[string]int{}
	for _, byName := range counts {
		for n, c := range byName {
			totals[n] += c
		}
	}
	names := make([]string, 0, len(totals))
	for n := range totals {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if totals[names[i]] != totals[names[j]] {
			return totals[names[i]] > totals[names[j]]
		}
		return names[i] < names[j]
	})
	top := names
	if len(top) > 5 {
		top = names[:5]
	}
	var days []string
	for d := since; d.Before(until); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format("2006-01-02"))
	}
	c := chart{W: 720, H: 220}
	const left, bottom, top0 = 40, 30, 10
	plotH := c.H - bottom - top0
	for _, d := range days {
		s := 0
		for _, n := range counts[d] {
			s += n
		}
		c.Max = max(c.Max, s)
	}
	if c.Max == 0 || len(days) == 0 {
		return c
	}
	slot := (c.W - left) / len(days)
	bw := max(2, slot*7/10)
	for i, d := range days {
		x := left + i*slot + (slot-bw)/2
		y := c.H - bottom
		other := 0
		for n, k := range counts[d] {
			if !contains(top, n) {
				other += k
			}
		}
		for j, n := range append(top, "other") {
			k := counts[d][n]
			if n == "other" {
				k = other
			}
			if k == 0 {
				continue
			}
			hh := max(1, k*plotH/c.Max)
			y -= hh
			c.Bars = append(c.Bars, chartRect{X: x, Y: y, W: bw, H: hh, Color: chartColors[min(j, len(chartColors)-1)], Title: fmt.Sprintf("%s %s: %d", d, n, k)})
		}
		if len(days) <= 14 || i%(len(days)/7+1) == 0 {
			c.Days = append(c.Days, chartLabel{X: x + bw/2, Text: d[5:]})
		}
	}
	for j, n := range top {
		c.Legend = append(c.Legend, chartLegend{Color: chartColors[j], Name: n, Total: totals[n], Href: "?name=" + url.QueryEscape(n)})
	}
	if len(names) > len(top) {
		o := 0
		for _, n := range names[len(top):] {
			o += totals[n]
		}
		c.Legend = append(c.Legend, chartLegend{Color: chartColors[len(chartColors)-1], Name: "other", Total: o})
	}
	return c
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
