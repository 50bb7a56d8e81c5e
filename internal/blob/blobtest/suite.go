// Package blobtest is the conformance suite every blob.Bucket adapter must
// pass (restic's backend/test.Suite, litestream's RunWithReplicaClient).
// An adapter's test is a few lines:
//
//	func TestBucket(t *testing.T) {
//		blobtest.RunSuite(t, func(t *testing.T) blob.Bucket { return MustOpen(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/blob"
)

// RunSuite runs the conformance tests against buckets from newBucket, which
// must return a new, empty bucket on every call (each subtest calls it).
func RunSuite(t *testing.T, newBucket func(t *testing.T) blob.Bucket) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b blob.Bucket)
	}{
		{"Ping", testPing},
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"GetRange", testGetRange},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStop", testListStop},
		{"NotFound", testNotFound},
		{"InvalidKey", testInvalidKey},
		{"ConcurrentPut", testConcurrentPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newBucket(t)) })
	}
}

// randBytes returns n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// longKey is a valid key of exactly blob.MaxKeyLen bytes.
var longKey = func() string {
	seg := strings.Repeat("k", blob.MaxSegmentLen)
	k := "o/" + seg + "/" + seg + "/" + seg + "/" + seg[:blob.MaxKeyLen-2-3*(blob.MaxSegmentLen+1)]
	if len(k) != blob.MaxKeyLen {
		panic("longKey has wrong length")
	}
	return k
}()

// MustPut stores data under key or fails the test.
func MustPut(tb testing.TB, b blob.Bucket, key string, data []byte) {
	tb.Helper()
	if err := b.Put(context.Background(), key, data); err != nil {
		tb.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

// MustGet returns the object under key or fails the test.
func MustGet(tb testing.TB, b blob.Bucket, key string) []byte {
	tb.Helper()
	data, err := b.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	return data
}

func testPing(t *testing.T, b blob.Bucket) {
	if err := b.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testPutGet(t *testing.T, b blob.Bucket) {
	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"Empty", "o/empty", []byte{}},
		{"OneByte", "o/one", []byte{0}},
		{"Small", "o/small.seg", []byte("hello, veil")},
		{"Binary64K", "o/deep/er/still/binary", randBytes(64 << 10)},
		{"Large5MiB", "o/large", randBytes(5<<20 + 12345)},
		{"Unicode", "o/ünïcødé/日本語 key", []byte("unicode")},
		{"LongKey", longKey, []byte("long")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			MustPut(t, b, tt.key, tt.data)
			if got := MustGet(t, b, tt.key); !bytes.Equal(got, tt.data) {
				t.Fatalf("Get(%q) = %d bytes, want the %d bytes put", tt.key, len(got), len(tt.data))
			}
		})
	}
}

func testOverwrite(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	MustPut(t, b, "ow/k", randBytes(10_000))
	want := []byte("shorter second value")
	MustPut(t, b, "ow/k", want)
	if got := MustGet(t, b, "ow/k"); !bytes.Equal(got, want) {
		t.Fatalf("Get after overwrite = %q, want %q", got, want)
	}
	info, err := b.Stat(ctx, "ow/k")
	if err != nil || info.Size != int64(len(want)) {
		t.Fatalf("Stat after overwrite = %+v, %v; want size %d", info, err, len(want))
	}
	var n int
	if err := b.List(ctx, "ow/", func(blob.Info) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("List after overwrite: %d objects, err %v; want 1 (no stray temp objects)", n, err)
	}
}

func testGetRange(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	MustPut(t, b, "r/obj", data)
	MustPut(t, b, "r/empty", nil)
	big := randBytes(6 << 20)
	MustPut(t, b, "r/big", big)

	tests := []struct {
		name   string
		key    string
		off, n int64
		want   []byte
		err    error
	}{
		{"Head", "r/obj", 0, 10, data[:10], nil},
		{"Middle", "r/obj", 123, 77, data[123:200], nil},
		{"Tail", "r/obj", 990, 10, data[990:], nil},
		{"LastByte", "r/obj", 999, 1, data[999:], nil},
		{"Whole", "r/obj", 0, 1000, data, nil},
		{"PastEndIsShort", "r/obj", 995, 10, data[995:], nil},
		{"HugeN", "r/obj", 10, 1 << 62, data[10:], nil},
		{"MaxN", "r/obj", 10, 1<<63 - 1, data[10:], nil},
		{"ZeroLength", "r/obj", 500, 0, []byte{}, nil},
		{"ZeroLengthAtEnd", "r/obj", 1000, 0, []byte{}, nil},
		{"OffAtEnd", "r/obj", 1000, 1, nil, blob.ErrRange},
		{"OffPastEnd", "r/obj", 5000, 10, nil, blob.ErrRange},
		{"NegativeOff", "r/obj", -1, 10, nil, blob.ErrRange},
		{"NegativeN", "r/obj", 0, -1, nil, blob.ErrRange},
		{"EmptyObject", "r/empty", 0, 1, nil, blob.ErrRange},
		{"EmptyObjectZero", "r/empty", 0, 0, []byte{}, nil},
		{"BigMiddle", "r/big", 3 << 20, 100_000, big[3<<20 : 3<<20+100_000], nil},
		{"BigTail", "r/big", 6<<20 - 5, 100, big[6<<20-5:], nil},
		{"Missing", "r/missing", 0, 10, nil, blob.ErrNotFound},
		{"MissingZero", "r/missing", 0, 0, nil, blob.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.GetRange(ctx, tt.key, tt.off, tt.n)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("GetRange(%q, %d, %d) error = %v, want %v", tt.key, tt.off, tt.n, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRange(%q, %d, %d): %v", tt.key, tt.off, tt.n, err)
			}
			if got == nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("GetRange(%q, %d, %d) = %d bytes (nil=%v), want %d bytes", tt.key, tt.off, tt.n, len(got), got == nil, len(tt.want))
			}
		})
	}
}

func testStat(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	before := time.Now()
	MustPut(t, b, "st/a", make([]byte, 4321))
	info, err := b.Stat(ctx, "st/a")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != "st/a" || info.Size != 4321 {
		t.Fatalf("Stat = %+v, want key st/a size 4321", info)
	}
	// Clocks of a remote store may differ a little; only sanity-check.
	if d := info.ModTime.Sub(before); d < -time.Hour || d > time.Hour {
		t.Fatalf("Stat ModTime = %v, want close to %v", info.ModTime, before)
	}
	MustPut(t, b, "st/empty", nil)
	if info, err := b.Stat(ctx, "st/empty"); err != nil || info.Size != 0 {
		t.Fatalf("Stat(empty) = %+v, %v; want size 0", info, err)
	}
}

func testDelete(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	MustPut(t, b, "d/x/1", []byte("1"))
	MustPut(t, b, "d/x/2", []byte("2"))
	for i := range 2 { // the second round checks idempotence
		if err := b.Delete(ctx, "d/x/1"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if err := b.Delete(ctx, "d/never/existed"); err != nil {
		t.Fatalf("Delete(never existed) = %v, want nil", err)
	}
	if _, err := b.Get(ctx, "d/x/1"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := b.Stat(ctx, "d/x/1"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if got := MustGet(t, b, "d/x/2"); string(got) != "2" {
		t.Fatalf("sibling after Delete = %q", got)
	}
	if err := b.Delete(ctx, "d/x/2"); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, b, ""); len(keys) != 0 {
		t.Fatalf("List after deleting all = %q, want none", keys)
	}
	// Writing below a fully deleted "directory" works again.
	MustPut(t, b, "d/x/3", []byte("3"))
	if got := MustGet(t, b, "d/x/3"); string(got) != "3" {
		t.Fatalf("Get d/x/3 = %q", got)
	}
}

func listKeys(t *testing.T, b blob.Bucket, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := b.List(context.Background(), prefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func testList(t *testing.T, b blob.Bucket) {
	// Byte order around '/': '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' (0x30).
	all := []string{"l/a-", "l/a.b", "l/a/c", "l/a/d/e", "l/a0", "l/b/x/y", "l/b/x/z", "l/ba", "m/z", "é/1"}
	sizes := map[string]int{}
	for i, k := range slices.Backward(all) {
		sizes[k] = i * 3
		MustPut(t, b, k, make([]byte, i*3))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"l/", all[:8]},
		{"l", all[:8]},
		{"l/a", []string{"l/a-", "l/a.b", "l/a/c", "l/a/d/e", "l/a0"}},
		{"l/a/", []string{"l/a/c", "l/a/d/e"}},
		{"l/b", []string{"l/b/x/y", "l/b/x/z", "l/ba"}},
		{"l/b/x/", []string{"l/b/x/y", "l/b/x/z"}},
		{"l/b/x/y", []string{"l/b/x/y"}},
		{"l/ba", []string{"l/ba"}},
		{"m/", []string{"m/z"}},
		{"é", []string{"é/1"}},
		{"nope/", []string{}},
		{"l/zzz", []string{}},
		{"l/a.b/", []string{}}, // an object is not a directory
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			var got []string
			err := b.List(context.Background(), tt.prefix, func(i blob.Info) error {
				if i.Size != int64(sizes[i.Key]) {
					t.Errorf("List: %s size %d, want %d", i.Key, i.Size, sizes[i.Key])
				}
				got = append(got, i.Key)
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", tt.prefix, err)
			}
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}

func testListStop(t *testing.T, b blob.Bucket) {
	for i := range 5 {
		MustPut(t, b, fmt.Sprintf("s/%d", i), []byte{byte(i)})
	}
	errStop := errors.New("stop here")
	var seen []string
	err := b.List(context.Background(), "s/", func(i blob.Info) error {
		seen = append(seen, i.Key)
		if len(seen) == 2 {
			return errStop
		}
		return nil
	})
	if err != errStop {
		t.Fatalf("List returned %v, want fn's error unchanged", err)
	}
	if !slices.Equal(seen, []string{"s/0", "s/1"}) {
		t.Fatalf("List called fn for %q after it failed", seen)
	}
}

func testNotFound(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	MustPut(t, b, "nf/file", []byte("x"))
	for _, key := range []string{"nf/missing", "nf", "nf/file/below", "other"} {
		t.Run(key, func(t *testing.T) {
			if _, err := b.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
			}
			if _, err := b.GetRange(ctx, key, 0, 1); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("GetRange(%q) = %v, want ErrNotFound", key, err)
			}
			if _, err := b.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
			}
		})
	}
}

// InvalidKeys are keys every adapter must reject with blob.ErrInvalidKey.
var InvalidKeys = []string{
	"", "/abs", "trailing/", "double//slash", ".", "..", "../up", "a/../b", "a/./b",
	"a/.hidden", ".tmp-123", "nul\x00byte", "back\\slash", "ctrl\nchar", "del\x7f",
	"bad\xffutf8", longKey + "k", "seg/" + strings.Repeat("s", blob.MaxSegmentLen+1),
}

func testInvalidKey(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	for _, key := range InvalidKeys {
		t.Run(fmt.Sprintf("%.40q", key), func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, blob.ErrInvalidKey) {
					t.Errorf("%s(%.40q) = %v, want ErrInvalidKey", op, key, err)
				}
			}
			check("Put", b.Put(ctx, key, []byte("x")))
			_, err := b.Get(ctx, key)
			check("Get", err)
			_, err = b.GetRange(ctx, key, 0, 1)
			check("GetRange", err)
			_, err = b.Stat(ctx, key)
			check("Stat", err)
			check("Delete", b.Delete(ctx, key))
			if key != "" && key != "trailing/" {
				check("List", b.List(ctx, key, func(blob.Info) error { return nil }))
			}
		})
	}
	if keys := listKeys(t, b, ""); len(keys) != 0 {
		t.Fatalf("invalid keys left objects behind: %q", keys)
	}
}

func testConcurrentPut(t *testing.T, b blob.Bucket) {
	const writers, size = 6, 300 << 10
	values := make([][]byte, writers)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
	}
	isOneValue := func(got []byte) bool {
		return slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(got, v) })
	}
	ctx := context.Background()
	MustPut(t, b, "c/key", values[0])
	var wg sync.WaitGroup
	errs := make(chan error, 4*writers)
	for i := range writers {
		wg.Go(func() {
			for range 3 {
				if err := b.Put(ctx, "c/key", values[i]); err != nil {
					errs <- fmt.Errorf("put #%d: %w", i, err)
				}
			}
		})
		wg.Go(func() { // readers never see a partial object
			for range 3 {
				got, err := b.Get(ctx, "c/key")
				if err != nil {
					errs <- fmt.Errorf("get: %w", err)
				} else if !isOneValue(got) {
					errs <- fmt.Errorf("get during concurrent puts: %d bytes that are no complete value", len(got))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := MustGet(t, b, "c/key"); !isOneValue(got) {
		t.Fatalf("after concurrent Puts: %d bytes that are no complete value", len(got))
	}
	if keys := listKeys(t, b, ""); !slices.Equal(keys, []string{"c/key"}) {
		t.Fatalf("List after concurrent Puts = %q, want [c/key]", keys)
	}
}
