package scrub

import (
	"syscall"
	"testing"
)

// TestEventMasksBounds runs the classifier on texts that end right before
// an unreadable page and start right after one: a read outside the text
// would crash the test.
func TestEventMasksBounds(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 classifier on this machine or build")
	}
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	for _, g := range [][]byte{mem[:page], mem[2*page:]} {
		if err := syscall.Mprotect(g, syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
	}
	mid := mem[page : 2*page]
	for i := range mid {
		mid[i] = "ab Sx-9:=%+(@_"[i%14]
	}
	sc := newScanner(MustNew(Rules{}).c)
	for n := 1; n <= 300; n++ {
		checkMasks(t, sc, mid[page-n:]) // ends at the guard page
		checkMasks(t, sc, mid[:n])      // starts after the guard page
	}
}
