package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
)

// The summary of a replay segment needs a handful of top-level fields of
// each event (type, timestamp, and for two small event kinds a few data
// fields). Decoding whole events with encoding/json costs a third of the
// replay path, mostly on the full snapshot, so these helpers walk the
// (already validated) JSON and skip nested values without decoding them.

var errScan = errors.New("malformed JSON")

// skipSpace returns i advanced past JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipContainer(b, i)
	default: // number, true, false, null
		for i < len(b) && !valueEnd[b[i]] {
			i++
		}
		return i, nil
	}
}

var valueEnd = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true}

// SWAR constants: a byte lane test eight bytes at a time.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// zeroLanes has the high bit set in the lowest lane of x that is zero (and
// maybe in lanes above it, which callers ignore by taking the lowest).
func zeroLanes(x uint64) uint64 { return (x - lanes01) &^ x & lanes80 }

// skipContainer returns the index just past the object or array that
// opens at b[i]. Brackets are only counted, not matched: the input passed
// the scrubber's validation, and a mismatch can only make the summary
// fail, never read out of bounds.
func skipContainer(b []byte, i int) (int, error) {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c | 0x20 { // folds '[' onto '{' and ']' onto '}'
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"': // '"' or 0x02
			if c == '"' {
				j, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j - 1
			}
		}
	}
	return 0, errScan
}

// skipString returns the index just past the string starting at b[i]. It
// looks for the closing quote eight bytes at a time (most strings in rrweb
// JSON are short keys and class names), skipping escapes; a string still
// open after 32 bytes is finished with the vectorised bytes.IndexByte.
func skipString(b []byte, i int) (int, error) {
	i++
	for words := 0; i < len(b); {
		if i+8 <= len(b) {
			if words == 4 {
				return skipLongString(b, i)
			}
			x := binary.LittleEndian.Uint64(b[i:])
			m := zeroLanes(x^(lanes01*'"')) | zeroLanes(x^(lanes01*'\\'))
			if m == 0 {
				i += 8
				words++
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return 0, errScan
}

// skipLongString finishes skipString with bytes.IndexByte, counting the
// backslashes before each quote to tell escaped quotes from the end.
func skipLongString(b []byte, i int) (int, error) {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, errScan
		}
		i += j
		n := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return i + 1, nil
		}
		i++
	}
}

// eachMember calls fn with each key (raw, without quotes) and value of the
// object at b[i:], and returns the index past the object.
func eachMember(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return 0, errScan
		}
		end, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errScan
		}
		vs := skipSpace(b, i+1)
		ve, err := skipValue(b, vs)
		if err != nil {
			return 0, err
		}
		if err := fn(key, b[vs:ve]); err != nil {
			return 0, err
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return 0, errScan
	}
}

// splitReplayBody finds the events array and the meta object of a replay
// upload without decoding either: the SDK sends {"events":[…],"meta":{…}},
// and a bare array of events is accepted too. events (nil if absent) and
// meta (nil if absent) alias b. A repeated key keeps its last value, as
// encoding/json does. Each events array (b[i] == '[') is left to
// eventsAt, which returns the index past it: on the request path the
// scrubber walks it there and tells the summary (scrubSplit); nil only
// delimits it.
func splitReplayBody(b []byte, eventsAt func(i int) (int, error)) (events, meta []byte, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return nil, nil, errScan
	}
	if eventsAt == nil {
		eventsAt = func(i int) (int, error) { return skipContainer(b, i) }
	}
	var end int
	switch b[i] {
	case '[':
		if end, err = eventsAt(i); err != nil {
			return nil, nil, err
		}
		events = b[i:end]
	case '{':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			end = i + 1
			break
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, nil, errScan
			}
			ke, err := skipString(b, i)
			if err != nil {
				return nil, nil, err
			}
			key := string(b[i+1 : ke-1])
			i = skipSpace(b, ke)
			if i >= len(b) || b[i] != ':' {
				return nil, nil, errScan
			}
			vs := skipSpace(b, i+1)
			var ve int
			if key == "events" && vs < len(b) && b[vs] == '[' {
				ve, err = eventsAt(vs)
			} else {
				ve, err = skipValue(b, vs)
			}
			if err != nil {
				return nil, nil, err
			}
			switch key {
			case "events":
				events = b[vs:ve]
			case "meta":
				meta = b[vs:ve]
			}
			i = skipSpace(b, ve)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				end = i + 1
				break
			}
			return nil, nil, errScan
		}
	default:
		return nil, nil, errScan
	}
	if skipSpace(b, end) != len(b) {
		return nil, nil, errScan // trailing bytes
	}
	return events, meta, nil
}

// scanEvents calls fn with the summary fields of each event of the JSON
// array b. Each event's members are read in one pass that also finds the
// event's end, so no byte is skipped twice. An element that is not an
// object is an error.
func scanEvents(b []byte, fn func(e *rrwebEvent) error) error {
	_, err := scanEventsAt(b, skipSpace(b, 0), fn)
	return err
}

// scanEventsAt is scanEvents for the array at b[i:]; it returns the index
// past the array.
func scanEventsAt(b []byte, i int, fn func(e *rrwebEvent) error) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	var e rrwebEvent
	for {
		end, err := scanEvent(b, skipSpace(b, i), &e)
		if err != nil {
			return 0, err
		}
		if err := fn(&e); err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return 0, errScan
	}
}

// scanEvent reads the fields of the rrweb event object at b[i:] the
// summary needs into e and returns the index past the object.
func scanEvent(b []byte, i int, e *rrwebEvent) (int, error) {
	*e = rrwebEvent{}
	var data []byte
	end, err := eachMember(b, i, func(key, val []byte) error {
		return eventField(e, &data, key, val)
	})
	if err != nil {
		return 0, err
	}
	if err := eventData(e, data); err != nil {
		return 0, err
	}
	return end, nil
}

// eventField reads the member key: val of an event into e (type,
// timestamp) or data (the data member's JSON, read by eventData once the
// type is known). A later member with the same key wins.
func eventField(e *rrwebEvent, data *[]byte, key, val []byte) error {
	switch string(key) {
	case "type":
		n, ok := parseInt(val)
		if !ok {
			return errScan
		}
		e.Type = int(n)
	case "timestamp":
		n, ok := parseInt(val)
		if !ok {
			f, err := strconv.ParseFloat(string(val), 64)
			if err != nil {
				return errScan
			}
			n = int64(f)
		}
		e.Timestamp = n
	case "data":
		*data = val
	}
	return nil
}

// eventData reads the summary fields of an event's data into e.Data.
func eventData(e *rrwebEvent, data []byte) error {
	// Meta (4) and plugin (6) events are small: decode their data fully.
	if (e.Type == 4 || e.Type == 6) && len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return errScan
		}
	}
	// Custom events (5) carry any payload: read only their tag.
	if e.Type == 5 && len(data) > 0 && data[0] == '{' {
		if _, err := eachMember(data, 0, func(key, val []byte) error {
			if string(key) == "tag" && len(val) > 0 && val[0] == '"' {
				return json.Unmarshal(val, &e.Data.Tag)
			}
			return nil
		}); err != nil {
			return errScan
		}
	}
	return nil
}

// parseInt reads a JSON integer of at most 18 digits (a millisecond
// timestamp, an event type); anything else reports false.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
