package events

import (
	"time"

	"github.com/veil-privacy/veil"
)

// Top-level message fields Parse reads or rewrites. Every other field is
// stored as sent.
const (
	fType = iota
	fMessageID
	fUserID
	fAnonymousID
	fEvent
	fName
	fGroupID
	fPreviousID
	fTimestamp
	fSentAt
	fReceivedAt
	fOriginalTimestamp
	fContext
	fIntegrations
	fWriteKey
	nFields
)

var fieldNames = [nFields]string{
	"type", "messageId", "userId", "anonymousId", "event", "name", "groupId",
	"previousId", "timestamp", "sentAt", "receivedAt", "originalTimestamp",
	"context", "integrations", "writeKey",
}

func fieldOf(k []byte) int8 {
	switch string(k) {
	case "type":
		return fType
	case "messageId":
		return fMessageID
	case "userId":
		return fUserID
	case "anonymousId":
		return fAnonymousID
	case "event":
		return fEvent
	case "name":
		return fName
	case "groupId":
		return fGroupID
	case "previousId":
		return fPreviousID
	case "timestamp":
		return fTimestamp
	case "sentAt":
		return fSentAt
	case "receivedAt":
		return fReceivedAt
	case "originalTimestamp":
		return fOriginalTimestamp
	case "context":
		return fContext
	case "integrations":
		return fIntegrations
	case "writeKey":
		return fWriteKey
	}
	return -1
}

func typeOf(v []byte) string {
	switch string(v) {
	case TypeTrack:
		return TypeTrack
	case TypeIdentify:
		return TypeIdentify
	case TypePage:
		return TypePage
	case TypeScreen:
		return TypeScreen
	case TypeGroup:
		return TypeGroup
	case TypeAlias:
		return TypeAlias
	}
	return ""
}

// build validates every scanned message and assembles the Request.
func (p *parser) build(implied string) (*Request, error) {
	n := len(p.msgs)
	req := &Request{Messages: make([]Message, n)}
	p.out = make([]byte, 0, len(p.s.b)+n*300)
	p.strs = make([]byte, 0, n*128)
	if cap(p.refs) < n {
		p.refs = make([][nStr]strRef, n)
	}
	p.refs = p.refs[:n]
	for k := range p.msgs {
		wk, err := p.message(k, implied, &req.Messages[k])
		if err != nil {
			return nil, err
		}
		if !p.batch && wk.vEnd != 0 {
			p.hasEnvKey, p.envWriteKey = true, wk
		}
	}
	if p.hasEnvKey {
		req.WriteKey = string(unquote(nil, p.s.b[p.envWriteKey.vStart:p.envWriteKey.vEnd]))
	}
	strs := string(p.strs)
	for k := range req.Messages {
		m, r, sp := &req.Messages[k], &p.refs[k], p.msgs[k]
		m.MessageID = strs[r[sMessageID].off:r[sMessageID].end]
		m.UserID = strs[r[sUserID].off:r[sUserID].end]
		m.AnonymousID = strs[r[sAnonymousID].off:r[sAnonymousID].end]
		m.Event = strs[r[sEvent].off:r[sEvent].end]
		m.Name = strs[r[sName].off:r[sName].end]
		m.GroupID = strs[r[sGroupID].off:r[sGroupID].end]
		m.PreviousID = strs[r[sPreviousID].off:r[sPreviousID].end]
		m.JSON = p.out[sp.outStart:sp.outEnd:sp.outEnd]
	}
	return req, nil
}

// classify sets p.cls for the members of one message and returns, per
// known field, 1 + the index of its member (0: absent).
func (p *parser) classify(k int, mem []member) (f [nFields]int32, err error) {
	p.cls = p.cls[:0]
	var unknown [16]int32
	nu, slow := 0, false
	for j, m := range mem {
		c := fieldOf(p.keyOf(m))
		p.cls = append(p.cls, c)
		if c < 0 {
			if m.kEsc || nu == len(unknown) {
				slow = true
			} else {
				unknown[nu] = int32(j)
				nu++
			}
			continue
		}
		if f[c] != 0 {
			return f, p.errf(k, "%s appears twice", fieldNames[c])
		}
		f[c] = int32(j + 1)
	}
	b := p.s.b
	if slow {
		seen := make(map[string]bool)
		for j, m := range mem {
			if p.cls[j] < 0 {
				key := string(p.keyOf(m))
				if seen[key] {
					return f, p.errf(k, "a field appears twice")
				}
				seen[key] = true
			}
		}
		return f, nil
	}
	for x := 1; x < nu; x++ {
		a := mem[unknown[x]]
		for y := 0; y < x; y++ {
			c := mem[unknown[y]]
			if string(b[a.kStart:a.kEnd]) == string(b[c.kStart:c.kEnd]) {
				return f, p.errf(k, "a field appears twice")
			}
		}
	}
	return f, nil
}

// idValue stores the identifier value of field c (a string or a number)
// in p.strs under ref and reports whether it was a number.
func (p *parser) idValue(k int, m member, c int8, ref *strRef) (numeric bool, err error) {
	if m.vEnd == 0 {
		return false, nil
	}
	v := p.s.b[m.vStart:m.vEnd]
	off := len(p.strs)
	switch v[0] {
	case 'n':
		return false, nil
	case '"':
		if hasBackslash(v) {
			p.strs = unquote(p.strs, v)
		} else {
			p.strs = append(p.strs, v[1:len(v)-1]...)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		p.strs = append(p.strs, v...)
		numeric = true
	default:
		return false, p.errf(k, "%s must be a string or a number", fieldNames[c])
	}
	*ref = strRef{off, len(p.strs)}
	return numeric, nil
}

// strValue stores the string value of field c in p.strs under ref.
func (p *parser) strValue(k int, m member, c int8, ref *strRef) error {
	if m.vEnd == 0 || p.s.b[m.vStart] == 'n' {
		return nil
	}
	v := p.s.b[m.vStart:m.vEnd]
	if v[0] != '"' {
		return p.errf(k, "%s must be a string", fieldNames[c])
	}
	off := len(p.strs)
	p.strs = unquote(p.strs, v)
	*ref = strRef{off, len(p.strs)}
	return nil
}

// decoded returns the content of the JSON string v, in p.key when it has
// escapes (valid until the next use of p.key).
func (p *parser) decoded(v []byte) []byte {
	if !hasBackslash(v) {
		return v[1 : len(v)-1]
	}
	p.key = unquote(p.key[:0], v)
	return p.key
}

func isObjectOrEmpty(v []byte) bool { return v[0] == '{' || v[0] == 'n' || emptyArray(v) }

// message validates message k and appends its stored JSON to p.out. It
// returns the message's writeKey member (zero if none).
func (p *parser) message(k int, implied string, msg *Message) (writeKey member, err error) {
	sp := &p.msgs[k]
	mem := p.mem[sp.memFrom:sp.memTo]
	b := p.s.b
	f, err := p.classify(k, mem)
	if err != nil {
		return member{}, err
	}
	get := func(c int) member {
		if f[c] == 0 {
			return member{}
		}
		return mem[f[c]-1]
	}

	typ := implied
	if m := get(fType); m.vEnd != 0 && b[m.vStart] != 'n' {
		if b[m.vStart] != '"' {
			return member{}, p.errf(k, "type must be a string")
		}
		t := typeOf(p.decoded(b[m.vStart:m.vEnd]))
		switch {
		case implied != "" && t != implied:
			return member{}, p.errf(k, "type does not match the /v1/%s endpoint", implied)
		case t == "":
			return member{}, p.errf(k, "type must be one of track, identify, page, screen, group or alias")
		}
		typ = t
	}
	if typ == "" {
		return member{}, p.errf(k, "type is missing")
	}

	ref := &p.refs[k]
	*ref = [nStr]strRef{}
	var numeric [nFields]bool
	for _, c := range [...]struct {
		f int8
		s int
	}{{fMessageID, sMessageID}, {fUserID, sUserID}, {fAnonymousID, sAnonymousID}, {fGroupID, sGroupID}, {fPreviousID, sPreviousID}} {
		if numeric[c.f], err = p.idValue(k, get(int(c.f)), c.f, &ref[c.s]); err != nil {
			return member{}, err
		}
	}
	switch typ {
	case TypeTrack:
		if err := p.strValue(k, get(fEvent), fEvent, &ref[sEvent]); err != nil {
			return member{}, err
		}
		if ref[sEvent].off == ref[sEvent].end {
			return member{}, p.errf(k, "track needs an event name")
		}
	case TypePage, TypeScreen:
		if err := p.strValue(k, get(fName), fName, &ref[sName]); err != nil {
			return member{}, err
		}
	case TypeGroup:
		if ref[sGroupID].off == ref[sGroupID].end {
			return member{}, p.errf(k, "group needs a groupId")
		}
	}
	noUser := ref[sUserID].off == ref[sUserID].end
	if typ == TypeAlias {
		if noUser {
			return member{}, p.errf(k, "alias needs a userId")
		}
		if ref[sPreviousID].off == ref[sPreviousID].end {
			return member{}, p.errf(k, "alias needs a previousId")
		}
	} else if noUser && ref[sAnonymousID].off == ref[sAnonymousID].end {
		return member{}, p.errf(k, "%s needs a userId or anonymousId", typ)
	}
	for _, c := range [...]int{fContext, fIntegrations} {
		if m := get(c); m.vEnd != 0 && !isObjectOrEmpty(b[m.vStart:m.vEnd]) {
			return member{}, p.errf(k, "%s must be an object", fieldNames[c])
		}
	}
	if !p.batch {
		if writeKey = get(fWriteKey); writeKey.vEnd != 0 && b[writeKey.vStart] != '"' {
			if b[writeKey.vStart] != 'n' {
				return member{}, p.errf(k, "writeKey must be a string")
			}
			writeKey = member{}
		}
	}

	tsm := get(fTimestamp)
	ts, hasTS, err := p.timeValue(k, tsm, "timestamp")
	if err != nil {
		return member{}, err
	}
	sent, hasSent, err := p.timeValue(k, get(fSentAt), "sentAt")
	if err != nil {
		return member{}, err
	}
	fromEnv := !hasSent && p.hasEnvSentAt
	if fromEnv {
		sent, hasSent = p.envSentAt, true
	}
	stamp := p.now
	if hasTS {
		stamp = ts
		if hasSent {
			stamp = skew(p.now, sent, ts)
		}
	}
	*msg = Message{Type: typ, Timestamp: stamp, ReceivedAt: p.now}
	if hasTS {
		msg.OriginalTimestamp = ts
	}
	if hasSent {
		msg.SentAt = sent
	}

	// The stored JSON: the client's fields minus those the server owns,
	// context and integrations merged with the batch's, then the server's.
	start := len(p.out)
	sp.outStart = start
	p.out = append(p.out, '{')
	ctxDone, integDone := false, false
	added := 0 // bytes the batch's context and integrations add
	for j, m := range mem {
		switch c := p.cls[j]; c {
		case fType, fMessageID, fTimestamp, fSentAt, fReceivedAt, fOriginalTimestamp, fWriteKey:
			continue
		case fUserID, fAnonymousID, fGroupID, fPreviousID:
			if numeric[c] {
				continue
			}
		case fContext, fIntegrations:
			has, r := p.hasEnvCtx, p.envCtxMem
			done := &ctxDone
			if c == fIntegrations {
				has, r, done = p.hasEnvInteg, p.envIntegMem, &integDone
			}
			if has {
				if b[m.vStart] != '{' { // null or []: the batch's replaces it
					continue
				}
				p.sep(start)
				p.out = append(p.out, b[m.kStart-1:m.kEnd+1]...)
				p.out = append(p.out, ':')
				before := len(p.out)
				p.mergeObject(m, r)
				added += len(p.out) - before - int(m.vEnd-m.vStart)
				*done = true
				continue
			}
		}
		p.sep(start)
		p.out = append(p.out, b[m.kStart-1:m.kEnd+1]...)
		p.out = append(p.out, ':')
		p.out = append(p.out, b[m.vStart:m.vEnd]...)
	}
	if p.hasEnvCtx && !ctxDone {
		p.sep(start)
		before := len(p.out)
		p.out = append(p.out, `"context":`...)
		p.out = append(p.out, b[p.envCtx.vStart:p.envCtx.vEnd]...)
		added += len(p.out) - before + 1
	}
	if p.hasEnvInteg && !integDone {
		p.sep(start)
		before := len(p.out)
		p.out = append(p.out, `"integrations":`...)
		p.out = append(p.out, b[p.envInteg.vStart:p.envInteg.vEnd]...)
		added += len(p.out) - before + 1
	}
	// The size limit applies to the message as received plus what merging
	// added; the server's fields come on top (at most Overhead bytes).
	if added > 0 {
		if n := int(sp.end-sp.start) + added; n > p.lim.MaxMessage {
			return member{}, veil.Errorf(veil.ETOOLARGE, "message %d is %d bytes with the batch context merged in; the limit is %s per message", k, n, size(p.lim.MaxMessage))
		}
		if p.merged += added; p.merged > p.lim.MaxBatch {
			return member{}, veil.Errorf(veil.ETOOLARGE, "batch context merged into every message adds more than %s", size(p.lim.MaxBatch))
		}
	}

	p.field(start, "type")
	p.out = append(p.out, '"')
	p.out = append(p.out, typ...)
	p.out = append(p.out, '"')
	for _, c := range [...]int8{fUserID, fAnonymousID, fGroupID, fPreviousID} {
		if numeric[c] {
			m := get(int(c))
			p.field(start, fieldNames[c])
			p.out = append(p.out, '"')
			p.out = append(p.out, b[m.vStart:m.vEnd]...)
			p.out = append(p.out, '"')
		}
	}
	p.field(start, "messageId")
	if r := &ref[sMessageID]; r.off == r.end {
		p.out = append(p.out, '"')
		off := len(p.strs)
		p.strs = p.newID(p.strs)
		*r = strRef{off, len(p.strs)}
		p.out = append(p.out, p.strs[off:]...)
		p.out = append(p.out, '"')
	} else if m := get(fMessageID); numeric[fMessageID] {
		p.out = append(p.out, '"')
		p.out = append(p.out, b[m.vStart:m.vEnd]...)
		p.out = append(p.out, '"')
	} else {
		p.out = append(p.out, b[m.vStart:m.vEnd]...)
	}
	p.timeField(start, "timestamp", stamp)
	if hasTS {
		p.field(start, "originalTimestamp")
		p.out = append(p.out, b[tsm.vStart:tsm.vEnd]...)
	}
	if hasSent && fromEnv {
		p.field(start, "sentAt")
		p.out = append(p.out, p.envSentText...)
	} else if hasSent {
		p.timeField(start, "sentAt", sent)
	}
	p.field(start, "receivedAt")
	p.out = append(p.out, '"')
	p.out = append(p.out, p.recvText...)
	p.out = append(p.out, '"', '}')
	sp.outEnd = len(p.out)
	return writeKey, nil
}

// sep writes a comma unless the object that starts at start is empty.
func (p *parser) sep(start int) {
	if len(p.out) > start+1 {
		p.out = append(p.out, ',')
	}
}

// field writes a separator and a field name.
func (p *parser) field(start int, name string) {
	p.sep(start)
	p.out = append(p.out, '"')
	p.out = append(p.out, name...)
	p.out = append(p.out, '"', ':')
}

func (p *parser) timeField(start int, name string, t time.Time) {
	p.field(start, name)
	p.out = append(p.out, '"')
	p.out = t.AppendFormat(p.out, time.RFC3339Nano)
	p.out = append(p.out, '"')
}

// mergeObject writes the message object m with the batch object's members
// (p.mem[r[0]:r[1]]) added where the message has no member of that name:
// a shallow merge in which the message wins.
func (p *parser) mergeObject(m member, r [2]int32) {
	b := p.s.b
	p.tmp = p.tmp[:0]
	p.s.object(int(m.vStart), 2, &p.tmp) // validated already: cannot fail
	env := p.mem[r[0]:r[1]]
	p.out = append(p.out, b[m.vStart:m.vEnd-1]...) // the message's object without its '}'
	empty := len(p.tmp) == 0
	var names map[string]bool
	if len(p.tmp)*len(env) > 256 {
		names = make(map[string]bool, len(p.tmp))
		for _, t := range p.tmp {
			names[string(p.keyOf(t))] = true
		}
	}
	for _, e := range env {
		if names != nil {
			if names[string(p.keyOf(e))] {
				continue
			}
		} else if p.hasKey(p.tmp, e) {
			continue
		}
		if !empty {
			p.out = append(p.out, ',')
		}
		empty = false
		p.out = append(p.out, b[e.kStart-1:e.kEnd+1]...)
		p.out = append(p.out, ':')
		p.out = append(p.out, b[e.vStart:e.vEnd]...)
	}
	p.out = append(p.out, '}')
}

// hasKey reports whether one of mem has the name of e.
func (p *parser) hasKey(mem []member, e member) bool {
	b := p.s.b
	if !e.kEsc {
		k := b[e.kStart:e.kEnd]
		for _, m := range mem {
			if !m.kEsc && string(b[m.kStart:m.kEnd]) == string(k) {
				return true
			}
		}
		// Fall through only if some name has escapes.
		escaped := false
		for _, m := range mem {
			escaped = escaped || m.kEsc
		}
		if !escaped {
			return false
		}
	}
	k := string(p.keyOf(e))
	for _, m := range mem {
		if string(p.keyOf(m)) == k {
			return true
		}
	}
	return false
}
