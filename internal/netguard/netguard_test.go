package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBlockReason(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"192.168.1.1", "private"},
		{"fd12::1", "private"},
		{"169.254.169.254", "cloud metadata"},
		{"fd00:ec2::254", "cloud metadata"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"100.100.100.200", "reserved"},
		{"255.255.255.255", "reserved"},
		{"64:ff9b::a00:1", "private"},
		{"93.184.216.34", ""},
		{"2606:4700::1111", ""},
	}
	for _, tt := range tests {
		if got := BlockReason(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("BlockReason(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	g := &Guard{What: "things", Env: "VEIL_THINGS_ALLOW_PRIVATE"}
	tests := []struct {
		host string
		want string // "" = accepted
	}{
		{"127.0.0.1", "destination 127.0.0.1 refused: loopback address (things only go to public addresses unless the operator sets VEIL_THINGS_ALLOW_PRIVATE=true)"},
		{"[::1]", "destination ::1 refused: loopback address"},
		{"10.1.2.3", "destination 10.1.2.3 refused: private address"},
		{"169.254.169.254", "cloud metadata address"},
		{"LOCALHOST.", "destination LOCALHOST. refused: loopback address"},
		{"db.localhost", "refused: loopback address"},
		{"files.example.com", ""},
		{"93.184.216.34", ""},
	}
	for _, tt := range tests {
		err := g.CheckHost(tt.host)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckHost(%q) = %v, want nil", tt.host, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckHost(%q) = %v, want %q", tt.host, err, tt.want)
		}
		if err := (&Guard{Allow: true}).CheckHost(tt.host); err != nil {
			t.Errorf("allowed CheckHost(%q) = %v", tt.host, err)
		}
	}
}

// TestDialerRefusesAtConnect dials a real listener on loopback, by address
// and by a name resolving to it: refused by default (before any byte is
// sent), connected when the operator allows private targets.
func TestDialerRefusesAtConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		addr := net.JoinHostPort(host, port)
		g := &Guard{What: "things", Env: "VEIL_THINGS_ALLOW_PRIVATE"}
		_, err := g.Dialer(5*time.Second).DialContext(context.Background(), "tcp4", addr)
		var be *BlockedError
		if !errors.As(err, &be) || be.Reason != "loopback" || !strings.Contains(err.Error(), "VEIL_THINGS_ALLOW_PRIVATE=true") {
			t.Fatalf("dial %s: %v, want a loopback BlockedError", addr, err)
		}
		g.Allow = true
		c, err := g.Dialer(5*time.Second).DialContext(context.Background(), "tcp4", addr)
		if err != nil {
			t.Fatalf("dial %s with private targets allowed: %v", addr, err)
		}
		c.Close()
	}
}
