package destination

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/veil-privacy/veil/internal/netguard"
)

// sftpTarget writes files below a directory of an SFTP server whose host
// key is pinned.
type sftpTarget struct {
	conn   *ssh.Client
	client *sftp.Client
	cfg    *SFTPConfig
}

// pinnedHostKey accepts only the configured key; anything else (unknown
// or changed key) is a hostKeyError naming both fingerprints.
func pinnedHostKey(pinned ssh.PublicKey) ssh.HostKeyCallback {
	want := pinned.Marshal()
	return func(host string, _ net.Addr, key ssh.PublicKey) error {
		if subtle.ConstantTimeCompare(key.Marshal(), want) == 1 {
			return nil
		}
		return &hostKeyError{msg: fmt.Sprintf("sftp host key of %s is %s %s, not the pinned %s %s: refusing to connect "+
			"(if the server's key really changed, remove and add the destination with the new key)",
			host, key.Type(), ssh.FingerprintSHA256(key), pinned.Type(), ssh.FingerprintSHA256(pinned))}
	}
}

func dialSFTP(ctx context.Context, c *SFTPConfig, sec Secrets, timeout time.Duration, g *netguard.Guard) (*sftpTarget, error) {
	pinned, err := parseHostKey(c.HostKey)
	if err != nil {
		return nil, err
	}
	var auth []ssh.AuthMethod
	if sec.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(sec.PrivateKey))
		if err != nil {
			return nil, fmt.Errorf("sftp private key: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if sec.Password != "" {
		auth = append(auth, ssh.Password(sec.Password))
	}
	cc := &ssh.ClientConfig{User: c.User, Auth: auth, HostKeyCallback: pinnedHostKey(pinned),
		HostKeyAlgorithms: []string{pinned.Type()}, Timeout: timeout}
	if pinned.Type() == ssh.KeyAlgoRSA {
		cc.HostKeyAlgorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	raw, err := g.Dialer(timeout).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sftp connect %s: %w", addr, err)
	}
	raw.SetDeadline(time.Now().Add(timeout))
	sc, chans, reqs, err := ssh.NewClientConn(raw, addr, cc)
	if err != nil {
		raw.Close()
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("sftp handshake with %s: %w", addr, err)
	}
	raw.SetDeadline(time.Time{})
	conn := ssh.NewClient(sc, chans, reqs)
	client, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sftp subsystem on %s: %w", addr, err)
	}
	return &sftpTarget{conn: conn, client: client, cfg: c}, nil
}

func (t *sftpTarget) path(name string) string {
	if t.cfg.Dir == "" {
		return name
	}
	return path.Join(t.cfg.Dir, name)
}

// Put writes a temporary file beside the final name and renames it into
// place, so a reader never sees a partial object.
func (t *sftpTarget) Put(ctx context.Context, name string, data []byte) error {
	p := t.path(name)
	if err := t.client.MkdirAll(path.Dir(p)); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := p + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := t.client.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		f.Close()
		t.client.Remove(tmp)
		return fmt.Errorf("write: %w", err)
	}
	if err := f.Close(); err != nil {
		t.client.Remove(tmp)
		return fmt.Errorf("close: %w", err)
	}
	if err := t.client.PosixRename(tmp, p); err != nil {
		// Servers without the posix-rename extension: plain rename, which
		// refuses an existing target, so remove it first.
		t.client.Remove(p)
		if err := t.client.Rename(tmp, p); err != nil {
			t.client.Remove(tmp)
			return fmt.Errorf("rename: %w", err)
		}
	}
	return ctx.Err()
}

// ReadBack stats the file and reads it whole for its checksum.
func (t *sftpTarget) ReadBack(_ context.Context, name string) (int64, [32]byte, error) {
	var sum [32]byte
	p := t.path(name)
	fi, err := t.client.Stat(p)
	if err != nil {
		return 0, sum, err
	}
	f, err := t.client.Open(p)
	if err != nil {
		return 0, sum, err
	}
	defer f.Close()
	n, sum, err := hashReader(f)
	if err != nil {
		return 0, sum, err
	}
	if fi.Size() != n {
		return 0, sum, fmt.Errorf("stat says %d bytes, read %d", fi.Size(), n)
	}
	return n, sum, nil
}

func (t *sftpTarget) Delete(_ context.Context, name string) error {
	return t.client.Remove(t.path(name))
}

func (t *sftpTarget) Location() string {
	loc := "sftp://" + t.cfg.User + "@" + net.JoinHostPort(t.cfg.Host, strconv.Itoa(t.cfg.Port)) + "/"
	if t.cfg.Dir != "" {
		loc += trimSlash(t.cfg.Dir) + "/"
	}
	return loc
}

func trimSlash(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	return s
}

func (t *sftpTarget) Close() error {
	t.client.Close()
	return t.conn.Close()
}
