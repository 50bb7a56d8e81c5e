package keyring_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
)

func TestParseMaster(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i + 1)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	want, err := keyring.ParseMaster([]byte(b64))
	if err != nil {
		t.Fatal(err)
	}
	ok := []struct{ name, text string }{
		{"Base64", b64},
		{"Base64Newline", b64 + "\n"},
		{"Base64Whitespace", " \t" + b64 + "\r\n\n"},
		{"Base64Unpadded", strings.TrimRight(b64, "=")},
		{"Hex", hex.EncodeToString(raw)},
		{"HexUpper", strings.ToUpper(hex.EncodeToString(raw)) + "\n"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			m, err := keyring.ParseMaster([]byte(tt.text))
			if err != nil {
				t.Fatalf("ParseMaster: %v", err)
			}
			if m.ID() != want.ID() {
				t.Fatalf("ID %s, want %s (same key)", m.ID(), want.ID())
			}
		})
	}
	bad := []struct{ name, text, want string }{
		{"Empty", "", "master key is empty — generate one with `veil key generate-master`"},
		{"Blank", " \n\t", "master key is empty"},
		{"Short", base64.StdEncoding.EncodeToString(raw[:24]), "master key is 24 bytes, want 32 — generate one with `veil key generate-master`"},
		{"Long", base64.StdEncoding.EncodeToString(append(raw, raw...)), "master key is 64 bytes, want 32"},
		{"HexShort", hex.EncodeToString(raw[:31]), "master key is"},
		{"NotBase64", "this is not a key!", "not base64 or 64 hex digits"},
		{"BadPadding", b64[:40] + "=", "not base64"},
		{"Zero", base64.StdEncoding.EncodeToString(make([]byte, 32)), "all zeros"},
		{"InnerSpace", b64[:20] + " " + b64[20:], "not base64"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyring.ParseMaster([]byte(tt.text))
			if !errors.Is(err, keyring.ErrInvalidMaster) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseMaster = %v, want ErrInvalidMaster containing %q", err, tt.want)
			}
			if s := strings.TrimSpace(tt.text); s != "" && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the key text: %v", err)
			}
		})
	}
}

func TestMaster_ID(t *testing.T) {
	m := keyring.NewMaster()
	if len(m.ID()) != 16 {
		t.Fatalf("ID %q, want 16 hex digits", m.ID())
	}
	if m.ID() == keyring.NewMaster().ID() {
		t.Fatal("two new master keys share an ID")
	}
	back, err := keyring.ParseMaster([]byte(m.Export()))
	if err != nil || back.ID() != m.ID() {
		t.Fatalf("ParseMaster(Export()) = %v, %v; want the same key", back, err)
	}
	if strings.Contains(m.Export(), m.ID()) {
		t.Fatal("ID is part of the key text")
	}
}

func TestGenerateMasterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	m, err := keyring.GenerateMasterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	loaded, loose, err := keyring.LoadMasterFile(path)
	if err != nil || loose || loaded.ID() != m.ID() {
		t.Fatalf("LoadMasterFile = %v, loose=%v, %v; want the generated key", loaded, loose, err)
	}
	before, _ := os.ReadFile(path)
	_, err = keyring.GenerateMasterFile(path)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second GenerateMasterFile = %v, want a refusal wrapping fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("GenerateMasterFile overwrote an existing key")
	}
	if _, err := keyring.GenerateMasterFile(filepath.Join(t.TempDir(), "no", "dir", "k")); err == nil {
		t.Fatal("GenerateMasterFile into a missing directory succeeded")
	}
}

func TestLoadMasterFile(t *testing.T) {
	dir := t.TempDir()
	m := keyring.NewMaster()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("Loose", func(t *testing.T) {
		got, loose, err := keyring.LoadMasterFile(write("loose.key", m.Export()+"\n", 0o644))
		if err != nil || !loose || got.ID() != m.ID() {
			t.Fatalf("LoadMasterFile(0644) = %v, loose=%v, %v; want the key and loose=true", got, loose, err)
		}
	})
	t.Run("Symlink", func(t *testing.T) {
		target := write("target.key", m.Export(), 0o600)
		link := filepath.Join(dir, "link.key")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if got, _, err := keyring.LoadMasterFile(link); err != nil || got.ID() != m.ID() {
			t.Fatalf("LoadMasterFile(symlink) = %v, %v", got, err)
		}
	})
	bad := []struct{ name, path, want string }{
		{"Missing", filepath.Join(dir, "missing.key"), "no such file"},
		{"Directory", dir, "not a regular file"},
		{"Empty", write("empty.key", "", 0o600), "master key is empty"},
		{"Short", write("short.key", base64.StdEncoding.EncodeToString(make([]byte, 24)), 0o600), "24 bytes, want 32"},
		{"Huge", write("huge.key", strings.Repeat("A", 5000), 0o600), "larger than 4096 bytes"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := keyring.LoadMasterFile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadMasterFile = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
