package config

import (
	"net"
	"strconv"
	"testing"
)

func TestHostPort(t *testing.T) {
	for a, want := range map[string]bool{
		":2222": true, "127.0.0.1:2222": true, "localhost:22": true, "[::1]:2222": true, "[::]:0": true, "0.0.0.0:65535": true,
		"": false, "2222": false, "127.0.0.1": false, ":": false, ":ssh": false, ":65536": false, ":-1": false, ":+22": false,
		"::1:2222": false, "[::1]": false, "[::1:22": false, "::1]:22": false, "[]:22": false, "[[::1]]:22": false, "a b:22x": false,
	} {
		if got := hostPort(a); got != want {
			t.Errorf("hostPort(%q) = %v, want %v", a, got, want)
		}
	}
}

// FuzzHostPort checks that what hostPort accepts, net.SplitHostPort
// splits, with a port in range.
func FuzzHostPort(f *testing.F) {
	for _, s := range []string{":2222", "[::1]:22", "h:1", "::1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, a string) {
		if !hostPort(a) {
			return
		}
		_, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 0 || n > 65535 {
			t.Fatalf("hostPort(%q) accepted; net.SplitHostPort: %v, port %q", a, err, port)
		}
	})
}

func TestProxyPrefixes(t *testing.T) {
	l := DefaultListen()
	l.ProxyProtocolFrom = []string{"127.0.0.1", "10.1.2.3/8", "::1", "::ffff:192.0.2.1"}
	got, err := l.ProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128", "192.0.2.1/32"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "", "10.0.0.1:22"} {
		l.ProxyProtocolFrom = []string{bad}
		if err := l.validate(); err == nil {
			t.Errorf("proxy_protocol_from %q accepted", bad)
		}
	}
	l.ProxyProtocolFrom = nil
	l.ProxyHeaderTimeout = 0
	if err := l.validate(); err == nil {
		t.Errorf("proxy_header_timeout 0 accepted")
	}
}
