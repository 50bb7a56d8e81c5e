package keyring

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// leaks reports whether out shows any of secrets in a form fmt produces:
// decimal, hex (either case), Go-syntax or raw bytes, or an expanded AES key
// schedule.
func leaks(out string, secrets ...[]byte) bool {
	if strings.Contains(out, "gcm") || strings.Contains(out, "GCM") {
		return true
	}
	for _, s := range secrets {
		s = s[:6]
		forms := []string{
			strings.Trim(fmt.Sprint(s), "[]"), // "12 34 56"
			hex.EncodeToString(s),
			strings.ToUpper(hex.EncodeToString(s)),
			strings.Trim(fmt.Sprintf("%#v", s)[len("[]byte{"):], "}"),
			string(s),
			strings.Trim(fmt.Sprintf("%q", s), `"`),
		}
		for _, f := range forms {
			if strings.Contains(out, f) {
				return true
			}
		}
	}
	return false
}

// TestRedacted formats keys every way we can think of.
func TestRedacted(t *testing.T) {
	m := NewMaster()
	dk := NewDataKey()
	secrets := [][]byte{m.sec().raw[:], dk.sec().raw[:], dk.dsec().index}
	type holder struct {
		Exported    *DataKey
		unexported  *DataKey
		byValue     DataKey
		master      *Master
		masterValue Master
	}
	values := map[string]any{
		"*DataKey": dk, "DataKey": *dk, "*Master": m, "Master": *m,
		"holder":  holder{dk, dk, *dk, m, *m},
		"*holder": &holder{dk, dk, *dk, m, *m},
		"slice":   []*DataKey{dk}, "map": map[string]DataKey{"k": *dk},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%o", "%b", "%p", "%t", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); leaks(out, secrets...) {
				t.Errorf("Sprintf(%s, %s) leaks key material: %.300s", verb, name, out)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		if leaks(buf.String(), secrets...) {
			t.Errorf("slog of %s leaks key material: %.300s", name, buf.String())
		}
		if j, _ := json.Marshal(v); leaks(string(j), secrets...) {
			t.Errorf("json of %s leaks key material: %s", name, j)
		}
	}
	if s := fmt.Sprint(dk); s != "[redacted]" {
		t.Errorf("Sprint(DataKey) = %q, want [redacted]", s)
	}
	if s := fmt.Sprint(m); s != "master key "+m.ID() {
		t.Errorf("Sprint(Master) = %q", s)
	}
}

// TestErrors_NoSecrets: failures mention key IDs, never key material or
// plaintext.
func TestErrors_NoSecrets(t *testing.T) {
	m, other := NewMaster(), NewMaster()
	dk := NewDataKey()
	aad := AAD{Org: "o", Project: "p", Kind: "k", ID: "i"}
	wrapped, _ := m.Wrap(dk, aad)
	plaintext := []byte("PLAINTEXT-MARKER-0123456789")
	sealed, _ := dk.Seal(plaintext, aad)
	var errs []error
	_, err := other.Unwrap(wrapped, aad)
	errs = append(errs, err)
	_, err = NewDataKey().Open(sealed, aad)
	errs = append(errs, err)
	_, err = dk.OpenLimit(sealed, aad, 3)
	errs = append(errs, err)
	_, err = ParseMaster([]byte(strings.Repeat("Zm9v", 10)))
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		if leaks(err.Error(), m.sec().raw[:], other.sec().raw[:], dk.sec().raw[:]) || strings.Contains(err.Error(), "PLAINTEXT") ||
			strings.Contains(err.Error(), "Zm9v") {
			t.Errorf("error leaks: %v", err)
		}
	}
}
