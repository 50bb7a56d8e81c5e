package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Master is the key-encryption key (KEK) that wraps project data keys. It
// is safe for concurrent use. Its bytes never print: fmt and slog show its
// ID only. Make one with NewMaster, ParseMaster or LoadMasterFile; the zero
// value is not usable.
type Master struct {
	wrapper
}

// generateHint ends every master key parse error.
const generateHint = "generate one with `veil key generate-master`"

// maxMasterFile bounds what LoadMasterFile reads: a key file is ~45 bytes.
const maxMasterFile = 4096

// NewMaster returns a new random master key.
func NewMaster() *Master {
	var raw [KeySize]byte
	rand.Read(raw[:])
	return &Master{newWrapper(kindMaster, raw[:])}
}

// ParseMaster parses the text form of a master key, as found in a key file
// or VEIL_MASTER_KEY: standard base64 (padded or not) or 64 hex digits of
// 32 bytes, surrounded by optional whitespace. Errors wrap ErrInvalidMaster
// and never contain the text.
func ParseMaster(text []byte) (*Master, error) {
	// Work on bytes, not strings, so the key text can be cleared after.
	s := bytes.TrimSpace(text)
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: master key is empty — %s", ErrInvalidMaster, generateHint)
	}
	var (
		raw = make([]byte, max(hex.DecodedLen(len(s)), base64.RawStdEncoding.DecodedLen(len(s))+3))
		n   int
		err error
	)
	defer clear(raw)
	switch {
	case len(s) == 2*KeySize && isHex(s):
		n, err = hex.Decode(raw, s)
	case s[len(s)-1] == '=':
		n, err = base64.StdEncoding.Decode(raw, s)
	default:
		n, err = base64.RawStdEncoding.Decode(raw, s)
	}
	if err != nil {
		// The decoders' errors only give an offset, but keep them out anyway.
		return nil, fmt.Errorf("%w: master key is not base64 or 64 hex digits — %s", ErrInvalidMaster, generateHint)
	}
	if n != KeySize {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d — %s", ErrInvalidMaster, n, KeySize, generateHint)
	}
	if allZero(raw[:n]) {
		return nil, fmt.Errorf("%w: master key is all zeros — %s", ErrInvalidMaster, generateHint)
	}
	return &Master{newWrapper(kindMaster, raw[:n])}, nil
}

func isHex(s []byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}

// LoadMasterFile reads and parses the master key file at path. It follows
// symlinks (Kubernetes mounts secrets that way) but refuses anything that
// is not a regular file. loose reports that group or others have any
// permission on the file; callers should warn, naming the path (veil
// doctor flags it), but it is not an error because mounted secrets are
// often 0644 inside a container.
func LoadMasterFile(path string) (m *Master, loose bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("master key file %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	text, err := io.ReadAll(io.LimitReader(f, maxMasterFile+1))
	defer clear(text)
	if err != nil {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	if len(text) > maxMasterFile {
		return nil, false, fmt.Errorf("%w: master key file %s is larger than %d bytes; it should hold one base64 key — %s",
			ErrInvalidMaster, path, maxMasterFile, generateHint)
	}
	m, err = ParseMaster(text)
	if err != nil {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	return m, fi.Mode().Perm()&0o077 != 0, nil
}

// GenerateMasterFile creates a new master key and writes it to path as
// base64 text with mode 0600, fsyncing the file and its directory. It
// refuses to overwrite an existing file (the error wraps fs.ErrExist):
// replacing a master key makes everything it wrapped unreadable.
func GenerateMasterFile(path string) (*Master, error) {
	m := NewMaster()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("master key file %s already exists; not overwriting it (a new key cannot open data wrapped by the old one): %w", path, fs.ErrExist)
	}
	if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	text := []byte(m.Export() + "\n")
	defer clear(text)
	err = writeSync(f, text)
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write master key file %s: %w", path, err)
	}
	return m, nil
}

func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o600) // whatever the umask did
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Export returns the key's text form (standard base64), as GenerateMasterFile
// writes it and ParseMaster reads it. It is the only way key material
// leaves this package: use it only to hand the key to its owner
// (`veil key generate-master`), never to log.
func (m *Master) Export() string { return base64.StdEncoding.EncodeToString(m.sec().raw[:]) }

// String returns "master key <ID>".
func (m Master) String() string { return "master key " + m.ID() }

// GoString is String, for %#v.
func (m Master) GoString() string { return m.String() }

// Format prints String for every verb, so not even %x or %d can show the
// key.
func (m Master) Format(f fmt.State, verb rune) { fmt.Fprint(f, m.String()) }

// LogValue implements slog.LogValuer: the key ID only.
func (m Master) LogValue() slog.Value {
	return slog.GroupValue(slog.String("master_key_id", m.ID()))
}
