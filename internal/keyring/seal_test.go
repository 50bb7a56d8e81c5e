package keyring_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
)

var testAAD = keyring.AAD{Org: "org_1", Project: "prj_1", Kind: "segment", ID: "ses_1/000001"}

// MustSeal seals plaintext or fails the test.
func MustSeal(tb testing.TB, dk *keyring.DataKey, plaintext []byte, aad keyring.AAD) []byte {
	tb.Helper()
	sealed, err := dk.Seal(plaintext, aad)
	if err != nil {
		tb.Fatalf("Seal(%d bytes): %v", len(plaintext), err)
	}
	return sealed
}

func TestSealOpen_RoundTrip(t *testing.T) {
	dk := keyring.NewDataKey()
	random := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	tests := []struct {
		name string
		data []byte
	}{
		{"Nil", nil},
		{"Empty", []byte{}},
		{"OneByte", []byte{'x'}},
		{"Text", []byte("hello, veil")},
		{"Zeros1M", make([]byte, 1<<20)},
		{"Random1K", random(1 << 10)},
		{"Random300K", random(300 << 10)},
		{"RRWeb256K", RRWebJSON(256 << 10)},
		{"RRWeb8M", RRWebJSON(8 << 20)},
	}
	for n := 1; n < 70_000; n = n*3 + 1 {
		tests = append(tests, struct {
			name string
			data []byte
		}{fmt.Sprintf("Size%d", n), random(n)})
	}
	sealers := []struct {
		name string
		seal func([]byte, keyring.AAD) ([]byte, error)
	}{{"Seal", dk.Seal}, {"SealFast", dk.SealFast}, {"SealS2", dk.SealS2}}
	for _, sl := range sealers {
		for _, tt := range tests {
			t.Run(sl.name+"/"+tt.name, func(t *testing.T) {
				sealed, err := sl.seal(tt.data, testAAD)
				if err != nil {
					t.Fatalf("%s(%d bytes): %v", sl.name, len(tt.data), err)
				}
				if len(tt.data) > 1000 && bytes.Contains(sealed, tt.data[:1000]) {
					t.Fatal("sealed object contains plaintext")
				}
				got, err := dk.Open(sealed, testAAD)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if got == nil || !bytes.Equal(got, tt.data) {
					t.Fatalf("Open = %d bytes (nil=%v), want %d", len(got), got == nil, len(tt.data))
				}
			})
		}
	}
}

func TestSeal_NonceIsRandom(t *testing.T) {
	dk := keyring.NewDataKey()
	a, b := MustSeal(t, dk, []byte("same"), testAAD), MustSeal(t, dk, []byte("same"), testAAD)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestSeal_Compresses(t *testing.T) {
	data := RRWebJSON(256 << 10)
	sealed := MustSeal(t, keyring.NewDataKey(), data, testAAD)
	if len(sealed)*4 > len(data) {
		t.Fatalf("sealed %d bytes of rrweb JSON into %d: compression ratio under 4x", len(data), len(sealed))
	}
}

func TestSeal_TooLarge(t *testing.T) {
	dk := keyring.NewDataKey()
	for name, seal := range map[string]func([]byte, keyring.AAD) ([]byte, error){"Seal": dk.Seal, "SealS2": dk.SealS2} {
		if _, err := seal(make([]byte, keyring.MaxPlaintext+1), testAAD); !errors.Is(err, keyring.ErrTooLarge) {
			t.Fatalf("%s(MaxPlaintext+1) = %v, want ErrTooLarge", name, err)
		}
	}
}

// TestSealS2_Format: S2 objects carry their own version byte, which is
// authenticated, and compress rrweb JSON (less than zstd does).
func TestSealS2_Format(t *testing.T) {
	dk := keyring.NewDataKey()
	data := RRWebJSON(256 << 10)
	sealed, err := dk.SealS2(data, testAAD)
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != 0x02 {
		t.Fatalf("SealS2 version byte = 0x%02x, want 0x02", sealed[0])
	}
	if len(sealed)*3 > len(data) {
		t.Fatalf("SealS2 sealed %d bytes of rrweb JSON into %d: ratio under 3x", len(data), len(sealed))
	}
	asZstd := bytes.Clone(sealed)
	asZstd[0] = 0x01 // claims the other codec: the header is authenticated
	if _, err := dk.Open(asZstd, testAAD); !errors.Is(err, keyring.ErrAuth) {
		t.Fatalf("Open(version byte changed) = %v, want ErrAuth", err)
	}
	if _, err := keyring.NewDataKey().Open(sealed, testAAD); !errors.Is(err, keyring.ErrAuth) {
		t.Fatalf("Open(other key) = %v, want ErrAuth", err)
	}
}

// TestOpen_Tampered flips one bit in each region of a sealed object.
func TestOpen_Tampered(t *testing.T) {
	dk := keyring.NewDataKey()
	sealed := MustSeal(t, dk, RRWebJSON(10_000), testAAD)
	const nonceAt, bodyAt = 1, 1 + 12
	tests := []struct {
		name string
		at   int
		want error
	}{
		{"Version", 0, keyring.ErrUnknownVersion},
		{"NonceFirst", nonceAt, keyring.ErrAuth},
		{"NonceLast", nonceAt + 11, keyring.ErrAuth},
		{"BodyFirst", bodyAt, keyring.ErrAuth},
		{"BodyMiddle", (bodyAt + len(sealed) - 16) / 2, keyring.ErrAuth},
		{"BodyLast", len(sealed) - 17, keyring.ErrAuth},
		{"TagFirst", len(sealed) - 16, keyring.ErrAuth},
		{"TagLast", len(sealed) - 1, keyring.ErrAuth},
	}
	for _, tt := range tests {
		for bit := range 8 {
			t.Run(fmt.Sprintf("%s/bit%d", tt.name, bit), func(t *testing.T) {
				bad := bytes.Clone(sealed)
				bad[tt.at] ^= 1 << bit
				if _, err := dk.Open(bad, testAAD); !errors.Is(err, tt.want) {
					t.Fatalf("Open(tampered) = %v, want %v", err, tt.want)
				}
			})
		}
	}
	t.Run("Appended", func(t *testing.T) {
		if _, err := dk.Open(append(bytes.Clone(sealed), 0), testAAD); !errors.Is(err, keyring.ErrAuth) {
			t.Fatalf("Open(appended byte) = %v, want ErrAuth", err)
		}
	})
}

func TestOpen_WrongAAD(t *testing.T) {
	dk := keyring.NewDataKey()
	sealed := MustSeal(t, dk, []byte("bound"), testAAD)
	tests := []struct {
		name string
		aad  keyring.AAD
	}{
		{"Org", keyring.AAD{Org: "org_2", Project: testAAD.Project, Kind: testAAD.Kind, ID: testAAD.ID}},
		{"Project", keyring.AAD{Org: testAAD.Org, Project: "prj_2", Kind: testAAD.Kind, ID: testAAD.ID}},
		{"Kind", keyring.AAD{Org: testAAD.Org, Project: testAAD.Project, Kind: "events", ID: testAAD.ID}},
		{"ID", keyring.AAD{Org: testAAD.Org, Project: testAAD.Project, Kind: testAAD.Kind, ID: "ses_1/000002"}},
		{"Empty", keyring.AAD{}},
		// Field boundaries must matter: moving bytes between fields is a different AAD.
		{"ShiftedBoundary", keyring.AAD{Org: testAAD.Org + testAAD.Project[:1], Project: testAAD.Project[1:], Kind: testAAD.Kind, ID: testAAD.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dk.Open(sealed, tt.aad); !errors.Is(err, keyring.ErrAuth) {
				t.Fatalf("Open with wrong %s = %v, want ErrAuth", tt.name, err)
			}
		})
	}
}

func TestOpen_WrongKey(t *testing.T) {
	sealed := MustSeal(t, keyring.NewDataKey(), []byte("secret"), testAAD)
	_, err := keyring.NewDataKey().Open(sealed, testAAD)
	if !errors.Is(err, keyring.ErrAuth) {
		t.Fatalf("Open with another key = %v, want ErrAuth", err)
	}
	const want = "authentication failed: wrong key, wrong object binding (AAD) or tampered data"
	if !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not explain itself", err)
	}
}

// TestOpen_Truncated opens every prefix of a sealed object.
func TestOpen_Truncated(t *testing.T) {
	dk := keyring.NewDataKey()
	sealed := MustSeal(t, dk, RRWebJSON(2000), testAAD)
	for n := range len(sealed) {
		_, err := dk.Open(sealed[:n], testAAD)
		want := keyring.ErrAuth
		if n < keyring.SealOverhead {
			want = keyring.ErrTruncated
		}
		if !errors.Is(err, want) {
			t.Fatalf("Open(first %d of %d bytes) = %v, want %v", n, len(sealed), err, want)
		}
	}
}

func TestOpenLimit(t *testing.T) {
	dk := keyring.NewDataKey()
	sealed := MustSeal(t, dk, make([]byte, 100_000), testAAD)
	if _, err := dk.OpenLimit(sealed, testAAD, 99_999); !errors.Is(err, keyring.ErrTooLarge) {
		t.Fatalf("OpenLimit(99_999) = %v, want ErrTooLarge", err)
	}
	if got, err := dk.OpenLimit(sealed, testAAD, 100_000); err != nil || len(got) != 100_000 {
		t.Fatalf("OpenLimit(100_000) = %d bytes, %v", len(got), err)
	}
	if _, err := dk.OpenLimit(sealed, testAAD, 0); !errors.Is(err, keyring.ErrTooLarge) {
		t.Fatalf("OpenLimit(0) = %v, want ErrTooLarge", err)
	}
}

func TestSealOpen_Concurrent(t *testing.T) {
	dk := keyring.NewDataKey()
	data := RRWebJSON(64 << 10)
	done := make(chan error)
	for i := range 8 {
		go func() {
			aad := testAAD
			aad.ID = fmt.Sprint(i)
			for range 20 {
				sealed, err := dk.Seal(data, aad)
				if err == nil {
					var got []byte
					if got, err = dk.Open(sealed, aad); err == nil && !bytes.Equal(got, data) {
						err = errors.New("round trip mismatch")
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSealFast_OpensWithOpen(t *testing.T) {
	dk := keyring.NewDataKey()
	for _, data := range [][]byte{nil, []byte("x"), RRWebJSON(256 << 10)} {
		sealed, err := dk.SealFast(data, testAAD)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dk.Open(sealed, testAAD)
		if err != nil || !bytes.Equal(got, data) && len(data) > 0 {
			t.Fatalf("round trip of %d bytes: %v", len(data), err)
		}
		if _, err := dk.Open(sealed, keyring.AAD{Org: "other"}); !errors.Is(err, keyring.ErrAuth) {
			t.Fatalf("wrong AAD: %v", err)
		}
	}
}
