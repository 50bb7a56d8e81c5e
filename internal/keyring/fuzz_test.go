package keyring_test

import (
	"bytes"
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
)

// fuzzKey is fixed so that the corpus's valid seeds stay valid across runs.
var fuzzKey = func() *keyring.DataKey {
	m, err := keyring.ParseMaster([]byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	if err != nil {
		panic(err)
	}
	dk := keyring.NewDataKey()
	w, _ := m.Wrap(dk, keyring.AAD{})
	dk, err = m.Unwrap(w, keyring.AAD{})
	if err != nil {
		panic(err)
	}
	return dk
}()

// FuzzOpen feeds arbitrary bytes to Open, OpenLimit, Unwrap and WrappedBy:
// they must fail cleanly, never panic or succeed on garbage.
func FuzzOpen(f *testing.F) {
	sealed, _ := fuzzKey.Seal([]byte(`{"type":2,"data":{}}`), testAAD)
	empty, _ := fuzzKey.Seal(nil, testAAD)
	sealedS2, _ := fuzzKey.SealS2([]byte(`{"type":2,"data":{}}`), testAAD)
	wrapped, _ := fuzzKey.WrapKey(keyring.NewDataKey(), testAAD)
	for _, seed := range [][]byte{nil, {}, {1}, {2}, sealed, sealedS2, empty, wrapped, sealedS2[:keyring.SealOverhead], sealed[:keyring.SealOverhead], bytes.Repeat([]byte{1}, 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := bytes.Equal(data, sealed) || bytes.Equal(data, sealedS2) || bytes.Equal(data, empty)
		if _, err := fuzzKey.Open(data, testAAD); (err == nil) != valid {
			t.Fatalf("Open(%d bytes): err=%v, want success only for the seeds", len(data), err)
		}
		fuzzKey.OpenLimit(data, testAAD, 10)
		if _, err := fuzzKey.UnwrapKey(data, testAAD); err == nil && !bytes.Equal(data, wrapped) {
			t.Fatalf("UnwrapKey accepted %d bytes of garbage", len(data))
		}
		keyring.WrappedBy(data)
	})
}

// FuzzSealOpen: any plaintext and AAD round-trip.
func FuzzSealOpen(f *testing.F) {
	f.Add([]byte("hello"), "org", "prj", "kind", "id")
	f.Add([]byte{}, "", "", "", "")
	f.Fuzz(func(t *testing.T, plain []byte, org, project, kind, id string) {
		aad := keyring.AAD{Org: org, Project: project, Kind: kind, ID: id}
		sealed, err := fuzzKey.Seal(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fuzzKey.Open(sealed, aad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %v", err)
		}
		sealed, err = fuzzKey.SealS2(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err = fuzzKey.Open(sealed, aad); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("S2 round trip: %v", err)
		}
	})
}

// FuzzParseMaster: never panics; whatever parses re-exports to the same key.
func FuzzParseMaster(f *testing.F) {
	for _, s := range []string{"", "  \n", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "zz", "====", "AAAA"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		m, err := keyring.ParseMaster(text)
		if err != nil {
			return
		}
		back, err := keyring.ParseMaster([]byte(m.Export()))
		if err != nil || back.ID() != m.ID() {
			t.Fatalf("Export of a parsed key does not parse back: %v", err)
		}
	})
}
