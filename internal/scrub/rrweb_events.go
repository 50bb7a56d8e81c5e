package scrub

import "fmt"

// EventVisitor is told, during RRWebEvents, the top-level members of each
// rrweb event as the walk reads them, so that a caller who needs a few
// fields of every event (ingest's segment summary: type, timestamp, data)
// need not walk the batch a second time.
type EventVisitor interface {
	// Member is called after the walk has read (and validated) a member
	// of an event object whose key has no escapes. key and val are the
	// input's bytes: the key without quotes and the whole JSON value, not
	// scrubbed. An event the walk reads twice (see rrweb.go) has its
	// members told twice, in document order each time, so the last call
	// for a key always carries its last occurrence.
	Member(key, val []byte)
	// End is called after each element of the events array; object
	// reports whether the element was a JSON object.
	End(object bool)
}

// RRWebEvents is RRWeb for the JSON array at the start of b, which may be
// followed by anything (the rest of an upload that wraps its events:
// {"events":[…],"meta":{…}}); n is the length of the array in b. out is
// the scrubbed array, b[:n] itself when nothing was redacted. v, if not
// nil, is told each event's members (see EventVisitor). Limits.MaxBytes
// applies to all of b.
func (s *Scrubber) RRWebEvents(b []byte, v EventVisitor) (out []byte, n int, r Report, err error) {
	if len(b) > s.limits.MaxBytes {
		return nil, 0, r, fmt.Errorf("scrub: %w: %d bytes, limit MaxBytes is %d", ErrTooLarge, len(b), s.limits.MaxBytes)
	}
	if i := skipWS(b, 0); i >= len(b) || b[i] != '[' {
		return nil, 0, r, ErrRRWebShape
	}
	w := s.get()
	defer s.put(w)
	w.rr.events = eventsMode{on: true, v: v}
	st := &w.state
	st.reset()
	out, err = w.rrweb(b, st)
	n = len(w.in) // rrweb cut the input at the array's end
	w.rr.events = eventsMode{}
	w.flush(&r)
	if err != nil {
		return nil, 0, nil, err
	}
	return out, n, r, nil
}

// eventsMode is the rrweb walk's state for RRWebEvents: the array may be
// followed by other bytes, and v is told each event's members.
type eventsMode struct {
	on bool
	v  EventVisitor
}

// eventMember tells the visitor about the member of an event whose key is
// in[ks:ke] (esc: with escapes, not told) and whose value is in[vs:w.i].
func (w *walker) eventMember(ks, ke, vs int, esc bool) {
	if v := w.rr.events.v; v != nil && !esc {
		v.Member(w.in[ks:ke], w.in[vs:w.i])
	}
}

// visitEvent walks the event at w.i and then tells the visitor it ended.
func (w *walker) visitEvent() {
	start := w.i
	w.event()
	if v := w.rr.events.v; v != nil {
		v.End(w.in[start] == '{')
	}
}

// endEvents ends the walk of the events array: RRWebEvents' array may be
// followed by other bytes (cut off), RRWeb's only by whitespace.
func (w *walker) endEvents() {
	if w.rr.events.on {
		w.in = w.in[:w.i]
		return
	}
	w.finish()
}
