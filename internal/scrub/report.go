package scrub

import (
	"sort"
	"strconv"
	"strings"
)

// Report counts redactions per detector name (see Detectors; custom rules
// appear as "custom:NAME"). It never holds the removed values. The zero
// value is an empty report; a nil map is valid and allocation-free.
type Report map[string]int

// Add counts n redactions by detector.
func (r *Report) Add(detector string, n int) {
	if n == 0 {
		return
	}
	if *r == nil {
		*r = make(Report, 4)
	}
	(*r)[detector] += n
}

// Merge adds all counts of o to r.
func (r *Report) Merge(o Report) {
	for k, v := range o {
		r.Add(k, v)
	}
}

// Total is the number of redactions of all detectors.
func (r Report) Total() int {
	t := 0
	for _, v := range r {
		t += v
	}
	return t
}

// String formats the report as "detector=count" pairs sorted by name, or
// "none".
func (r Report) String() string {
	if len(r) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(strconv.Itoa(r[k]))
	}
	return sb.String()
}
