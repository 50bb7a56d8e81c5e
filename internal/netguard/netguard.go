// Package netguard keeps outbound connections that Veil makes on behalf
// of customers (webhook deliveries, pushes to destinations) away from the
// server's own networks: loopback, private, link-local, multicast,
// reserved and cloud-metadata addresses (SSRF protection).
//
// The check runs on the address actually being connected
// (net.Dialer.Control), after DNS resolution, so a hostname that resolves
// (or re-resolves, DNS rebinding) to a blocked address is refused too.
// CheckHost is the early, friendly check when a URL or host is saved.
//
// Each user of the package has its own operator opt-in (an environment
// variable named in the error), because on-premises set-ups legitimately
// reach internal hosts.
package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Guard refuses non-public addresses for one kind of outbound traffic.
type Guard struct {
	// What names the traffic in errors, plural ("webhooks").
	What string
	// Env is the operator's opt-in variable, named in errors.
	Env string
	// Allow turns the guard off (the operator set Env).
	Allow bool
}

// BlockedError is returned when a connection (or a saved host) would go
// to an address that is not on the public internet.
type BlockedError struct {
	Addr   netip.Addr // invalid when Host was refused by name
	Host   string     // the host name refused by name ("localhost")
	Reason string
	What   string
	Env    string
}

func (e *BlockedError) Error() string {
	target := e.Host
	if e.Addr.IsValid() {
		target = e.Addr.String()
	}
	return fmt.Sprintf("destination %s refused: %s address (%s only go to public addresses unless the operator sets %s=true)",
		target, e.Reason, e.What, e.Env)
}

var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT; also Alibaba's metadata 100.100.100.200
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
	ietf       = netip.MustParsePrefix("192.0.0.0/24")
	benchmark  = netip.MustParsePrefix("198.18.0.0/15")
	reserved   = netip.MustParsePrefix("240.0.0.0/4") // includes broadcast
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	awsMetaV6  = netip.MustParseAddr("fd00:ec2::254")
	documented = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"),
	}
)

// BlockReason says why a is not a public unicast address, or "" if it is.
func BlockReason(a netip.Addr) string {
	a = a.Unmap()
	if nat64.Contains(a) { // the IPv4 address is in the last 32 bits
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a == awsMetaV6 || a == netip.AddrFrom4([4]byte{169, 254, 169, 254}):
		return "cloud metadata"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast"
	case a.IsUnspecified() || thisNet.Contains(a):
		return "unspecified"
	case cgnat.Contains(a), ietf.Contains(a), benchmark.Contains(a), reserved.Contains(a):
		return "reserved"
	}
	for _, p := range documented {
		if p.Contains(a) {
			return "reserved"
		}
	}
	return ""
}

func (g *Guard) blocked(a netip.Addr, host, reason string) *BlockedError {
	return &BlockedError{Addr: a, Host: host, Reason: reason, What: g.What, Env: g.Env}
}

// Control is a net.Dialer.Control function refusing blocked addresses
// (nothing is refused when Allow is set).
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if g.Allow {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%s dial: unexpected address %q", g.What, address)
	}
	if r := BlockReason(ap.Addr()); r != "" {
		return g.blocked(ap.Addr().Unmap(), "", r)
	}
	return nil
}

// Dialer returns a dialer with the guard as its Control.
func (g *Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: g.Control}
}

// CheckHost refuses a host that is a literal blocked IP address or
// localhost (the early check when a URL or host is saved; host names are
// checked on every connection). Nothing is refused when Allow is set.
func (g *Guard) CheckHost(host string) error {
	if g.Allow {
		return nil
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		if r := BlockReason(a); r != "" {
			return g.blocked(a.Unmap(), "", r)
		}
		return nil
	}
	// "localhost." (a fully qualified name) is localhost too.
	if h := strings.TrimSuffix(strings.ToLower(host), "."); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return g.blocked(netip.Addr{}, host, "loopback")
	}
	return nil
}
