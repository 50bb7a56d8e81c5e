package webhook

import (
	"net/netip"
	"testing"
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
		if got := blockReason(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("blockReason(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
