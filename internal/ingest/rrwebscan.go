package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
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
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errScan
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
			i++
		}
		return i, nil
	}
}

// skipString returns the index just past the string starting at b[i]. It
// jumps between quotes with bytes.IndexByte (vectorised) and counts the
// backslashes before each to tell escaped quotes from the end.
func skipString(b []byte, i int) (int, error) {
	i++
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

// eachElement calls fn with each element of the array at b[i:].
func eachElement(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		vs := skipSpace(b, i)
		ve, err := skipValue(b, vs)
		if err != nil {
			return err
		}
		if err := fn(b[vs:ve]); err != nil {
			return err
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return errScan
	}
}

// scanEvent reads the fields of one rrweb event the summary needs.
func scanEvent(elem []byte) (rrwebEvent, error) {
	var e rrwebEvent
	var data []byte
	_, err := eachMember(elem, 0, func(key, val []byte) error {
		switch string(key) {
		case "type":
			n, err := strconv.Atoi(string(val))
			if err != nil {
				return errScan
			}
			e.Type = n
		case "timestamp":
			f, err := strconv.ParseFloat(string(val), 64)
			if err != nil {
				return errScan
			}
			e.Timestamp = int64(f)
		case "data":
			data = val
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	// Meta (4) and plugin (6) events are small: decode their data fully.
	if (e.Type == 4 || e.Type == 6) && len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return e, errScan
		}
	}
	return e, nil
}
