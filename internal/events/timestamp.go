package events

import "time"

// parseTime parses the ISO-8601 date-times that Segment clients send:
//
//	2012-12-02T00:30:08.276Z        analytics.js, analytics-node (toISOString)
//	2009-11-10T23:00:00+01:00       analytics-go (RFC 3339, offset kept)
//	2024-05-01T10:00:00.123456      analytics-python (naive isoformat: UTC)
//	2024-05-01 10:00:00+0000        space separator, basic-format offset
//	2015-2-02T00:30:08.276Z         one-digit month or day (Segment's own docs)
//	2024-05-01                      date only: midnight UTC
//
// Seconds and the fraction are optional; fraction digits past nanoseconds are
// dropped; an offset may be Z, ±hh, ±hhmm or ±hh:mm. A missing offset means
// UTC. Anything else, any out-of-range field, and a time outside the
// years 0000-9999 once in UTC (so it formats as RFC 3339) is rejected.
func parseTime(s []byte) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	year, i, ok := digits(s, 0, 4, 4)
	if !ok || i >= len(s) || s[i] != '-' {
		return time.Time{}, false
	}
	month, i, ok := digits(s, i+1, 1, 2)
	if !ok || i >= len(s) || s[i] != '-' {
		return time.Time{}, false
	}
	day, i, ok := digits(s, i+1, 1, 2)
	if !ok || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	if i < len(s) {
		if c := s[i]; c != 'T' && c != 't' && c != ' ' {
			return time.Time{}, false
		}
		if hour, i, ok = digits(s, i+1, 2, 2); !ok || hour > 23 || i >= len(s) || s[i] != ':' {
			return time.Time{}, false
		}
		if min, i, ok = digits(s, i+1, 2, 2); !ok || min > 59 {
			return time.Time{}, false
		}
		if i < len(s) && s[i] == ':' {
			if sec, i, ok = digits(s, i+1, 2, 2); !ok || sec > 59 {
				return time.Time{}, false
			}
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				n, scale := 0, 100000000
				for ; i < len(s) && isDigit(s[i]); i++ {
					n++
					nsec += int(s[i]-'0') * scale
					scale /= 10
				}
				if n == 0 {
					return time.Time{}, false
				}
			}
		}
	}
	off := 0 // seconds east of UTC
	if i < len(s) {
		switch c := s[i]; {
		case (c == 'Z' || c == 'z') && i+1 == len(s):
		case c == '+' || c == '-':
			oh, j, ok := digits(s, i+1, 2, 2)
			om := 0
			if ok && j < len(s) {
				if s[j] == ':' {
					j++
				}
				om, j, ok = digits(s, j, 2, 2)
			}
			if !ok || j != len(s) || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			off = (oh*60 + om) * 60
			if c == '-' {
				off = -off
			}
		default:
			return time.Time{}, false
		}
	}
	// Subtracting the offset from the wall time in UTC avoids allocating a
	// time.Location per call.
	t := time.Date(year, time.Month(month), day, hour, min, sec-off, nsec, time.UTC)
	if y := t.Year(); y < 0 || y > 9999 { // an offset crossed the range
		return time.Time{}, false
	}
	return t, true
}

// digits reads between min and max decimal digits at s[i:].
func digits(s []byte, i, min, max int) (n, end int, ok bool) {
	j := i
	for j < len(s) && j-i < max && isDigit(s[j]) {
		n = n*10 + int(s[j]-'0')
		j++
	}
	return n, j, j-i >= min
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
