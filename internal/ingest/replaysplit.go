package ingest

import (
	"encoding/json"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/scrub"
)

// readReplay takes a replay upload apart, scrubs its events and reads
// their summary, in one walk of the events when the scrubber redacted
// nothing (the summary is read again from the output when it did). It
// returns the scrubbed events array, the summary (without the user index
// and tags' blind indexes) and the meta's user id.
func (h *Handler) readReplay(sc *scrub.Scrubber, body []byte, ua string) (clean []byte, meta *segmentMeta, userID string, err error) {
	sp := scrubSplit(sc, body)
	if sp.scrubErr != nil {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "Replay events are not valid rrweb JSON (%v).", sp.scrubErr)
	}
	if sp.splitErr != nil || sp.eventErr != nil {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "Replay body must be a JSON array of rrweb events or {\"events\":[…],\"meta\":{…}}.")
	}
	var rb replayBody
	if len(sp.meta) > 0 {
		if err := json.Unmarshal(sp.meta, &rb.Meta); err != nil {
			return nil, nil, "", veil.Errorf(veil.EINVALID, "Replay body's meta must be an object: {\"url\":…,\"userId\":…}.")
		}
	}
	if len(sp.events) == 0 || sp.events[0] != '[' {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "Replay body has no events array.")
	}
	h.observe(sp.rep)
	if sameBytes(sp.clean, sp.events) { // nothing redacted: the summary already read is the clean events'
		meta, err = h.finishSummary(sc, &sp.sum, rb.Meta.URL, ua)
	} else {
		meta, err = h.summarize(sc, sp.clean, rb.Meta.URL, ua)
	}
	if err != nil {
		return nil, nil, "", err
	}
	return sp.clean, meta, rb.Meta.UserID, nil
}

// replaySplit is a replay upload taken apart in one walk: the scrubber
// walks the events array where splitReplayBody finds it, and tells the
// summary fields of each event on the way (scrub.EventVisitor), so the
// events are not walked a second time for the summary.
type replaySplit struct {
	events []byte // the last events value, as uploaded (aliases the body)
	meta   []byte // the last meta value (aliases the body)
	clean  []byte // the last events array, scrubbed (events itself when clean)
	rep    scrub.Report
	sum    segmentSummary // read from the uploaded events
	// Errors, in the order they are answered: the scrubber's (the events
	// are not valid JSON), the body's shape, an event the summary cannot
	// read.
	scrubErr, splitErr, eventErr error
	v                            summaryVisitor
}

// scrubSplit splits body ({"events":[…],"meta":{…}} or a bare events
// array) and scrubs its events with sc.
func scrubSplit(sc *scrub.Scrubber, body []byte) *replaySplit {
	s := &replaySplit{}
	s.events, s.meta, s.splitErr = splitReplayBody(body, func(i int) (int, error) {
		s.sum.reset() // a repeated events key starts over
		s.v = summaryVisitor{sum: &s.sum}
		out, n, rep, err := sc.RRWebEvents(body[i:], &s.v)
		if err != nil {
			s.scrubErr = err
			return 0, err
		}
		s.clean, s.rep, s.eventErr = out, rep, s.v.err
		return i + n, nil
	})
	return s
}

// summaryVisitor reads each event's summary fields from the scrubber's
// walk, as scanEvent reads them from the JSON.
type summaryVisitor struct {
	sum  *segmentSummary
	e    rrwebEvent
	data []byte
	err  error // the first event the summary could not read
}

// Member implements scrub.EventVisitor.
func (v *summaryVisitor) Member(key, val []byte) {
	if v.err == nil {
		v.err = eventField(&v.e, &v.data, key, val)
	}
}

// End implements scrub.EventVisitor.
func (v *summaryVisitor) End(object bool) {
	switch {
	case v.err != nil:
	case !object:
		v.err = errScan
	default:
		if v.err = eventData(&v.e, v.data); v.err == nil {
			_ = v.sum.add(&v.e) // remembers an invalid event, never fails
		}
	}
	v.e, v.data = rrwebEvent{}, nil
}
