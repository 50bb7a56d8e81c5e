package testenv

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTPServer is a real SFTP server: pkg/sftp's server over an x/crypto/ssh
// server on 127.0.0.1, serving files below Root (a working directory, not
// a chroot). It accepts one user, SFTPUser, with the given public key or
// SFTPPassword. Nothing to install: it is pure Go.
type SFTPServer struct {
	// Root is the directory the server serves.
	Root    string
	t       testing.TB
	addr    string
	hostKey ssh.Signer
	cfg     *ssh.ServerConfig

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

// The SFTP server's user and password.
const SFTPUser, SFTPPassword = "veil", "correct horse battery"

// SFTP starts an SFTP server accepting clientKey (or SFTPPassword) for
// SFTPUser; it stops when the test ends.
func SFTP(t testing.TB, clientKey ssh.PublicKey) *SFTPServer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	hk, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &SFTPServer{t: t, Root: t.TempDir(), hostKey: hk}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == SFTPUser && clientKey != nil && bytes.Equal(k.Marshal(), clientKey.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key")
		},
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == SFTPUser && string(pw) == SFTPPassword {
				return nil, nil
			}
			return nil, fmt.Errorf("bad password")
		},
	}
	s.cfg.AddHostKey(hk)
	s.start("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

// HostKeyLine is the server's key as an authorized_keys line.
func (s *SFTPServer) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey.PublicKey())))
}

// Port is the port the server listens on.
func (s *SFTPServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *SFTPServer) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
}

// Stop closes the listener and every connection (an outage).
func (s *SFTPServer) Stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// Restart listens again on the same address.
func (s *SFTPServer) Restart() { s.start(s.addr) }

func (s *SFTPServer) serve(c net.Conn) {
	_, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, in, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range in {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if !ok {
					continue
				}
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Root))
				if err != nil {
					ch.Close()
					return
				}
				srv.Serve()
				srv.Close()
				return
			}
		}()
	}
}
