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
