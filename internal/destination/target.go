package destination

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/veil-privacy/veil/internal/netguard"
)

// target is one connected destination. Names are slash paths relative to
// the destination's prefix or directory.
type target interface {
	// Put stores data under name so that it appears whole or not at all
	// (one S3 PUT; on SFTP a temporary file renamed into place),
	// replacing an object of that name.
	Put(ctx context.Context, name string, data []byte) error
	// ReadBack reads the stored object and returns its size and SHA-256.
	ReadBack(ctx context.Context, name string) (int64, [32]byte, error)
	Delete(ctx context.Context, name string) error
	// Location says where the destination writes, without credentials
	// (s3://bucket/prefix/, sftp://user@host:port/dir/).
	Location() string
	Close() error
}

// putVerified stores data and checks, by reading it back, that the
// destination holds exactly those bytes.
func (s *Service) putVerified(ctx context.Context, t target, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if err := t.Put(ctx, name, data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	n, sum, err := t.ReadBack(ctx, name)
	if err != nil {
		return fmt.Errorf("read back %s: %w", name, err)
	}
	if n != int64(len(data)) || sum != sha256.Sum256(data) {
		return &verifyError{name: name, want: int64(len(data)), got: n}
	}
	return nil
}

// verifyError reports an object that did not read back as written.
type verifyError struct {
	name      string
	want, got int64
}

func (e *verifyError) Error() string {
	return fmt.Sprintf("verify %s: read back %d bytes with a different checksum, wrote %d", e.name, e.got, e.want)
}

// hashReader returns the size and SHA-256 of r's bytes.
func hashReader(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return n, sum, err
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// encryptAge encrypts data to one X25519 recipient (binary age format).
func encryptAge(data []byte, recipient string) ([]byte, error) {
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		return nil, fmt.Errorf("age recipient: %w", err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// hostKeyError reports an SFTP server whose key is not the pinned one.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// errorCode classifies a push error into the short code stored as the
// push's last error, shown as the alert and sent in destination.failed.
// Codes never carry the error's text (which could echo paths or names).
func errorCode(err error) string {
	var hk *hostKeyError
	var ve *verifyError
	var be *netguard.BlockedError
	var ne net.Error
	msg := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &hk):
		return "host_key"
	case errors.As(err, &be):
		return "blocked"
	case errors.As(err, &ve):
		return "verify"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout"
	case strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "accessdenied") ||
		strings.Contains(msg, "access denied") || strings.Contains(msg, "invalidaccesskeyid") ||
		strings.Contains(msg, "signaturedoesnotmatch") || strings.Contains(msg, "statuscode: 403") ||
		errors.Is(err, os.ErrPermission):
		return "auth"
	case strings.Contains(msg, "nosuchbucket") || strings.Contains(msg, "statuscode: 404") || errors.Is(err, os.ErrNotExist):
		return "not_found"
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "eof") || strings.Contains(msg, "dial"):
		return "unreachable"
	case strings.Contains(msg, "statuscode: 5"):
		return "server_error"
	}
	return "error"
}
