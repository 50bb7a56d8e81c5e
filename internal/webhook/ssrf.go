package webhook

import (
	"fmt"
	"net/netip"
	"syscall"
)

// BlockedError is returned when a delivery would connect to an address
// that is not on the public internet. It is checked on the address
// actually being connected (net.Dialer.Control), after DNS resolution, so
// a hostname that resolves (or re-resolves, DNS rebinding) to a private
// address is refused too.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("destination %s refused: %s address (webhooks only go to public addresses unless the operator sets VEIL_WEBHOOK_ALLOW_PRIVATE=true)", e.Addr, e.Reason)
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

// blockReason says why a is not a public unicast address, or "" if it is.
func blockReason(a netip.Addr) string {
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

// checkAddr is a net.Dialer.Control function refusing blocked addresses.
func checkAddr(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial: unexpected address %q", address)
	}
	if r := blockReason(ap.Addr()); r != "" {
		return &BlockedError{Addr: ap.Addr().Unmap(), Reason: r}
	}
	return nil
}

// checkHost refuses a URL host that is a literal blocked IP address (the
// early, friendly check when an endpoint is saved; hostnames are checked
// on every connection).
func checkHost(host string) error {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if r := blockReason(a); r != "" {
		return &BlockedError{Addr: a.Unmap(), Reason: r}
	}
	return nil
}
