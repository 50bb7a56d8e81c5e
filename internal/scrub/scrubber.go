package scrub

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Errors returned for input that cannot be scrubbed. They are wrapped with
// detail (offset, limit); test with errors.Is.
var (
	ErrInvalidJSON = errors.New("invalid JSON")
	ErrInvalidUTF8 = errors.New("invalid UTF-8 in JSON string")
	ErrTooLarge    = errors.New("input too large")
	ErrTooDeep     = errors.New("JSON nested too deeply")
	ErrRRWebShape  = errors.New("rrweb input must be a JSON array of events")
)

// Scrubber applies one project's Rules. It is compiled once by New and is
// safe for concurrent use.
type Scrubber struct {
	rules  Rules
	c      *compiled
	limits Limits
	pool   sync.Pool // *walker
}

// Option configures New.
type Option func(*Scrubber)

// WithLimits replaces DefaultLimits; zero fields keep their default.
func WithLimits(l Limits) Option {
	return func(s *Scrubber) {
		if l.MaxBytes > 0 {
			s.limits.MaxBytes = l.MaxBytes
		}
		if l.MaxDepth > 0 {
			s.limits.MaxDepth = l.MaxDepth
		}
	}
}

// New validates and compiles rules.
func New(rules Rules, opts ...Option) (*Scrubber, error) {
	c, err := rules.compile()
	if err != nil {
		return nil, err
	}
	s := &Scrubber{rules: rules, c: c, limits: DefaultLimits}
	for _, o := range opts {
		o(s)
	}
	s.pool.New = func() any { return newWalker(s) }
	return s, nil
}

// MustNew is New for rules known to be valid (tests, defaults); it panics
// on error.
func MustNew(rules Rules, opts ...Option) *Scrubber {
	s, err := New(rules, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Rules returns the rules s was built from.
func (s *Scrubber) Rules() Rules { return s.rules }

// Limits returns the limits in force.
func (s *Scrubber) Limits() Limits { return s.limits }

// Text scrubs free text the way event properties are scrubbed: each
// finding becomes the replacement marker ("[Filtered]" unless the rules say
// otherwise). Text never fails; it returns t itself when nothing was found.
func (s *Scrubber) Text(t string) (string, Report) {
	return s.text(t, s.c.marker == "")
}

// MaskText scrubs free text the way replay text is scrubbed: each finding
// is replaced by '*' per character, so the length in characters is kept.
func (s *Scrubber) MaskText(t string) (string, Report) { return s.text(t, true) }

func (s *Scrubber) text(t string, mask bool) (string, Report) {
	w := s.get()
	defer s.put(w)
	// The scanner only reads src, so viewing the string's bytes is safe.
	src := unsafe.Slice(unsafe.StringData(t), len(t))
	out, changed := w.sc.scrubText(src, mask)
	var r Report
	w.flush(&r)
	if !changed {
		return t, r
	}
	return string(out), r
}

// JSON scrubs one JSON document: an event's properties, a Segment message
// or a batch. Values of sensitive fields become the marker, other strings
// are scanned, safe fields are kept. The result is valid JSON; it is b
// itself (not a copy) when nothing was redacted. Invalid JSON, invalid
// UTF-8 and input over the limits are errors, never passed through.
func (s *Scrubber) JSON(b []byte) ([]byte, Report, error) {
	return s.doc(b, false, nil)
}

// RRWeb scrubs a JSON array of rrweb events (one replay batch). Redacted
// text is masked with '*' per character. See RRWebSession to carry the
// set of password and card inputs across batches.
func (s *Scrubber) RRWeb(b []byte) ([]byte, Report, error) {
	return s.doc(b, true, nil)
}

// RRWebSession is RRWeb with state kept across the batches of one
// session, so that an input recognised as a password or card field in an
// earlier batch is still masked when later batches only carry its input
// events. st may be nil.
func (s *Scrubber) RRWebSession(st *ReplayState, b []byte) ([]byte, Report, error) {
	if st == nil {
		st = &ReplayState{}
	}
	return s.doc(b, true, st)
}

func (s *Scrubber) doc(b []byte, replay bool, st *ReplayState) ([]byte, Report, error) {
	var r Report
	if len(b) > s.limits.MaxBytes {
		return nil, r, fmt.Errorf("scrub: %w: %d bytes, limit MaxBytes is %d", ErrTooLarge, len(b), s.limits.MaxBytes)
	}
	w := s.get()
	defer s.put(w)
	var out []byte
	var err error
	if replay {
		if st == nil {
			st = &w.state
			st.reset()
		}
		out, err = w.rrweb(b, st)
	} else {
		out, err = w.document(b, 0, false)
	}
	w.flush(&r)
	if err != nil {
		return nil, nil, err
	}
	return out, r, nil
}

// MaxOutputLen bounds the length of JSON or RRWeb output for an input of
// inLen bytes that produced report r: every redaction adds at most the
// marker plus two quotes, escaped at most twice when inside JSON held in a
// string. Text and MaskText output in mask mode never grows.
func (s *Scrubber) MaxOutputLen(inLen int, r Report) int {
	return inLen + r.Total()*(len(s.c.marker)+8)
}

func (s *Scrubber) get() *walker { return s.pool.Get().(*walker) }

func (s *Scrubber) put(w *walker) {
	if cap(w.dec) > 1<<20 { // do not pin huge buffers
		w.dec = nil
	}
	w.sc.trim()
	s.pool.Put(w)
}

// trim drops scratch buffers that grew beyond what ordinary input needs.
func (sc *scanner) trim() {
	const keep = 1 << 20
	for k := range sc.view {
		if cap(sc.view[k]) > keep {
			sc.view[k], sc.vesc[k] = nil, nil
		}
		if cap(sc.outBuf[k]) > keep {
			sc.outBuf[k] = nil
		}
	}
	if cap(sc.groups) > 4096 {
		sc.groups = nil
	}
	if cap(sc.spans) > 4096 {
		sc.spans = nil
	}
}
