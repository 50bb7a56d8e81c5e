package events

import (
	"crypto/rand"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/veil-privacy/veil"
)

// Parse validates and normalizes the body of a request to one of the
// tracking endpoints: "track", "identify", "page", "screen", "group",
// "alias" (one message whose type is implied) or "batch" (also "import").
// now is the server's receive time. Errors are *veil.Error values
// (EINVALID or ETOOLARGE) whose messages name the problem and, in a batch,
// the message index, and never quote the payload.
//
// Parse never panics, reads body only (it may be reused afterwards), and
// checks sizes before reading anything.
func Parse(body []byte, endpoint string, now time.Time, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	implied, batch := "", false
	switch endpoint {
	case "batch", "import":
		batch = true
	case TypeTrack, TypeIdentify, TypePage, TypeScreen, TypeGroup, TypeAlias:
		implied = endpoint
	default:
		return nil, veil.Errorf(veil.EINVALID, "unknown endpoint")
	}
	if batch && len(body) > lim.MaxBatch {
		return nil, veil.Errorf(veil.ETOOLARGE, "batch is %d bytes; the limit is %s per batch", len(body), size(lim.MaxBatch))
	}
	if !batch && len(body) > lim.MaxMessage {
		return nil, tooLargeMessage(-1, len(body), lim.MaxMessage)
	}

	p := parserPool.Get().(*parser)
	defer p.release()
	p.reset(body, lim, now, batch)
	var err error
	if batch {
		err = p.envelope()
	} else {
		err = p.single()
	}
	if err != nil {
		return nil, err
	}
	return p.build(implied)
}

// span is one message of the body: its bytes and its members in p.mem.
type span struct {
	start, end     int32
	memFrom, memTo int32
	outStart       int // the stored JSON in parser.out
	outEnd         int
}

// strRef locates a string field of a message in parser.strs.
type strRef struct{ off, end int }

const (
	sMessageID = iota
	sUserID
	sAnonymousID
	sEvent
	sName
	sGroupID
	sPreviousID
	nStr
)

type parser struct {
	s     scanner
	lim   Limits
	now   time.Time
	batch bool

	mem  []member
	msgs []span
	refs [][nStr]strRef
	tmp  []member // members of one message's context or integrations
	key  []byte   // scratch for unescaped keys and values

	// Batch envelope values. seen: the field was sent; has: it has a
	// value to use (a string, a time, a non-empty object).
	envWriteKey             member
	envCtx, envInteg        member
	envCtxMem, envIntegMem  [2]int32 // member ranges in mem
	envSentAt               time.Time
	envSentText             []byte // envSentAt as a JSON string
	seenEnvCtx, seenEnvInt  bool
	seenEnvSent, seenEnvKey bool
	hasEnvCtx, hasEnvInteg  bool
	hasEnvSentAt, hasEnvKey bool

	cls  []int8 // field class of each member of the current message
	out  []byte // stored JSON of every message (not pooled)
	strs []byte // string fields of every message (not pooled)

	rnd    [16 * 64]byte // randomness for message ids
	rndPos int

	recvText []byte // receivedAt, formatted once
	merged   int    // bytes of merged context and integrations so far
}

var parserPool = sync.Pool{New: func() any { return &parser{rndPos: len(parser{}.rnd)} }}

func (p *parser) reset(body []byte, lim Limits, now time.Time, batch bool) {
	p.s = scanner{b: body, maxDepth: lim.MaxDepth, maxStr: lim.MaxStringLen, long: -1}
	p.lim, p.now, p.batch = lim, now.Round(0).UTC(), batch
	p.mem, p.msgs, p.refs, p.tmp, p.key = p.mem[:0], p.msgs[:0], p.refs[:0], p.tmp[:0], p.key[:0]
	p.seenEnvCtx, p.seenEnvInt, p.seenEnvSent, p.seenEnvKey = false, false, false, false
	p.hasEnvCtx, p.hasEnvInteg, p.hasEnvSentAt, p.hasEnvKey = false, false, false, false
	p.recvText = p.now.AppendFormat(p.recvText[:0], time.RFC3339Nano)
	p.merged = 0
}

// release returns p to the pool unless a hostile body made its buffers big.
func (p *parser) release() {
	p.s.b, p.out, p.strs = nil, nil, nil
	if cap(p.mem) > 1<<16 || cap(p.key) > 1<<16 || cap(p.msgs) > 1<<12 || cap(p.tmp) > 1<<12 {
		return
	}
	parserPool.Put(p)
}

// newID appends a generated message id to dst.
func (p *parser) newID(dst []byte) []byte {
	if p.rndPos+16 > len(p.rnd) {
		rand.Read(p.rnd[:]) // never fails (crypto/rand panics on a broken system source)
		p.rndPos = 0
	}
	u := p.rnd[p.rndPos : p.rndPos+16]
	p.rndPos += 16
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	dst = append(dst, "veil-"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// errf returns an EINVALID error about message i (-1: the envelope).
func (p *parser) errf(i int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.batch && i >= 0 {
		msg = fmt.Sprintf("batch[%d]: %s", i, msg)
	}
	return veil.Errorf(veil.EINVALID, "%s", msg)
}

// scanError turns the scanner's error into a client error.
func (p *parser) scanError(i int) error {
	switch p.s.err {
	case errUTF8:
		return p.errf(i, "invalid UTF-8 at byte %d", p.s.errOff)
	case errDepth:
		return p.errf(i, "nesting is deeper than %d levels", p.lim.MaxDepth)
	}
	return p.errf(i, "invalid JSON at byte %d", p.s.errOff)
}

// longString reports a string over Limits.MaxStringLen, if the scanner
// met one.
func (p *parser) longString(i int) error {
	if p.s.long < 0 {
		return nil
	}
	msg := fmt.Sprintf("a string at byte %d is longer than %s", p.s.long, size(p.lim.MaxStringLen))
	if p.batch && i >= 0 {
		msg = fmt.Sprintf("batch[%d]: %s", i, msg)
	}
	return veil.Errorf(veil.ETOOLARGE, "%s", msg)
}

// keyOf returns the decoded name of m, in p.key when it has escapes (valid
// until the next call).
func (p *parser) keyOf(m member) []byte {
	raw := p.s.b[m.kStart:m.kEnd]
	if !m.kEsc {
		return raw
	}
	p.key = unquote(p.key[:0], p.s.b[m.kStart-1:m.kEnd+1])
	return p.key
}

func (p *parser) single() error {
	b := p.s.b
	i := skipWS(b, 0)
	if i == len(b) {
		return p.errf(-1, "body is empty")
	}
	if b[i] != '{' {
		return p.errf(-1, "message must be a JSON object")
	}
	end := p.s.object(i, 1, &p.mem)
	if end < 0 {
		return p.scanError(-1)
	}
	if skipWS(b, end) != len(b) {
		return p.errf(-1, "invalid JSON at byte %d: data after the message", skipWS(b, end))
	}
	if err := p.longString(-1); err != nil {
		return err
	}
	p.msgs = append(p.msgs, span{start: int32(i), end: int32(end), memFrom: 0, memTo: int32(len(p.mem))})
	return nil
}

// envelope scans a batch body: {"batch":[...], "writeKey", "sentAt",
// "context", "integrations"}. Other envelope fields are validated and
// ignored.
func (p *parser) envelope() error {
	b, s := p.s.b, &p.s
	i := skipWS(b, 0)
	if i == len(b) {
		return p.errf(-1, "body is empty")
	}
	if b[i] != '{' {
		return p.errf(-1, "batch body must be a JSON object")
	}
	seenBatch := false
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return p.errf(-1, "batch is missing")
	}
	for {
		if i >= len(b) || b[i] != '"' {
			s.fail(errSyntax, i)
			return p.scanError(-1)
		}
		kEnd, kEsc := s.str(i)
		if kEnd < 0 {
			return p.scanError(-1)
		}
		key := p.keyOf(member{kStart: int32(i + 1), kEnd: int32(kEnd - 1), kEsc: kEsc})
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			s.fail(errSyntax, i)
			return p.scanError(-1)
		}
		v := skipWS(b, i+1)
		var err error
		inBatch := false
		switch string(key) {
		case "batch":
			inBatch = true
			if seenBatch {
				return p.errf(-1, "batch appears twice")
			}
			seenBatch = true
			i, err = p.batchArray(v)
		case "writeKey", "sentAt", "context", "integrations":
			i, err = p.envField(string(key), v)
		default:
			if i = s.value(v, 1); i < 0 {
				err = p.scanError(-1)
			}
		}
		if err == nil && !inBatch {
			err = p.longString(-1) // in an envelope field, not a message
		}
		if err != nil {
			return err
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			break
		}
		s.fail(errSyntax, i)
		return p.scanError(-1)
	}
	if j := skipWS(b, i+1); j != len(b) {
		return p.errf(-1, "invalid JSON at byte %d: data after the batch", j)
	}
	if !seenBatch {
		return p.errf(-1, "batch is missing")
	}
	return nil
}

// batchArray scans the batch array at v, recording each message.
func (p *parser) batchArray(v int) (int, error) {
	b, s := p.s.b, &p.s
	if v >= len(b) || b[v] != '[' {
		return -1, p.errf(-1, "batch must be an array")
	}
	i := skipWS(b, v+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		if n >= p.lim.MaxBatchMessages {
			return -1, veil.Errorf(veil.ETOOLARGE, "batch has more than %d messages", p.lim.MaxBatchMessages)
		}
		if i >= len(b) || b[i] != '{' {
			if i < len(b) && s.value(i, 1) > 0 {
				return -1, p.errf(n, "message must be a JSON object")
			}
			s.fail(errSyntax, i)
			return -1, p.scanError(n)
		}
		from := len(p.mem)
		end := s.object(i, 1, &p.mem)
		if end < 0 {
			return -1, p.scanError(n)
		}
		if end-i > p.lim.MaxMessage {
			return -1, tooLargeMessage(n, end-i, p.lim.MaxMessage)
		}
		if err := p.longString(n); err != nil {
			return -1, err
		}
		p.msgs = append(p.msgs, span{start: int32(i), end: int32(end), memFrom: int32(from), memTo: int32(len(p.mem))})
		i = skipWS(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		s.fail(errSyntax, i)
		return -1, p.scanError(-1)
	}
}

// envField scans one of the envelope's writeKey, sentAt, context and
// integrations at v.
func (p *parser) envField(key string, v int) (int, error) {
	b, s := p.s.b, &p.s
	from := len(p.mem)
	var end int
	if v < len(b) && b[v] == '{' {
		end = s.object(v, 2, &p.mem)
	} else {
		end = s.value(v, 1)
	}
	if end < 0 {
		return -1, p.scanError(-1)
	}
	m := member{vStart: int32(v), vEnd: int32(end)}
	isNull := b[v] == 'n'
	twice := func(seen *bool) error {
		if *seen {
			return p.errf(-1, "%s appears twice", key)
		}
		*seen = true
		return nil
	}
	switch key {
	case "writeKey":
		if err := twice(&p.seenEnvKey); err != nil {
			return -1, err
		}
		if !isNull && b[v] != '"' {
			return -1, p.errf(-1, "writeKey must be a string")
		}
		p.hasEnvKey, p.envWriteKey = !isNull, m
	case "sentAt":
		if err := twice(&p.seenEnvSent); err != nil {
			return -1, err
		}
		t, ok, err := p.timeValue(-1, m, "sentAt")
		if err != nil {
			return -1, err
		}
		p.hasEnvSentAt, p.envSentAt = ok, t
		p.envSentText = append(p.envSentText[:0], '"')
		p.envSentText = append(t.AppendFormat(p.envSentText, time.RFC3339Nano), '"')
	case "context", "integrations":
		if b[v] != '{' && !isNull && !emptyArray(b[v:end]) {
			return -1, p.errf(-1, "%s must be an object", key)
		}
		has := b[v] == '{' && len(p.mem) > from
		r := [2]int32{int32(from), int32(len(p.mem))}
		if key == "context" {
			if err := twice(&p.seenEnvCtx); err != nil {
				return -1, err
			}
			p.hasEnvCtx, p.envCtx, p.envCtxMem = has, m, r
		} else {
			if err := twice(&p.seenEnvInt); err != nil {
				return -1, err
			}
			p.hasEnvInteg, p.envInteg, p.envIntegMem = has, m, r
		}
	}
	return end, nil
}

// emptyArray reports whether v is [] (PHP encodes an empty map so).
func emptyArray(v []byte) bool {
	return len(v) >= 2 && v[0] == '[' && skipWS(v, 1) == len(v)-1
}

// timeValue parses the date-time value of m. ok is false for null, "" or
// an absent value.
func (p *parser) timeValue(i int, m member, name string) (t time.Time, ok bool, err error) {
	if m.vEnd == 0 {
		return time.Time{}, false, nil
	}
	v := p.s.b[m.vStart:m.vEnd]
	switch v[0] {
	case 'n':
		return time.Time{}, false, nil
	case '"':
	default:
		return time.Time{}, false, p.errf(i, "%s must be an ISO-8601 date-time string", name)
	}
	raw := p.decoded(v)
	if len(raw) == 0 {
		return time.Time{}, false, nil
	}
	t, ok = parseTime(raw)
	if !ok {
		return time.Time{}, false, p.errf(i, "%s is not an ISO-8601 date-time", name)
	}
	return t, true, nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// skew returns the corrected timestamp recv - (sent - ts), saturating
// instead of overflowing.
func skew(recv, sent, ts time.Time) time.Time {
	d := sent.Sub(ts) // saturates at ±292 years
	if d == math.MinInt64 {
		d++
	}
	return recv.Add(-d)
}
