package scrub

// WithByteScan makes a Scrubber scan text with the byte loop only, so that
// tests can compare it with the indexed (AVX2) scan.
func WithByteScan() Option { return func(s *Scrubber) { s.c.byteScan = true } }

// IndexedScan reports whether this build and CPU use the indexed scan.
var IndexedScan = hasAVX2
