package e2e

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	proxyproto "github.com/pires/go-proxyproto"
)

// relay is a TCP relay on loopback, as a load balancer would be: it
// connects to target from the address from, writes a PROXY header of
// version (none when 0) naming src as the client, then copies both ways.
func relay(t *testing.T, target, from string, version byte, src *net.TCPAddr) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
				up, err := d.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				if version != 0 {
					h := proxyproto.HeaderProxyFromAddrs(version, src, up.RemoteAddr())
					if _, err := h.WriteTo(up); err != nil {
						return
					}
				}
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestServeProxyProtocol: behind a trusted relay (127.0.0.2), the PROXY
// header's address is the client's, in whoami and in the log, for v1 and
// v2; a relay not in proxy_protocol_from (127.0.0.3) that sends a header
// is refused, a trusted one that sends none is dropped, and a direct
// client without a header is served as before.
func TestServeProxyProtocol(t *testing.T) {
	t.Parallel()
	s := newServed(t, "proxy_protocol_from = [\"127.0.0.2\"]\nproxy_header_timeout = \"2s\"\n")
	alice := s.client("alice", true)
	s.start()
	v1 := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 5555}
	v2 := &net.TCPAddr{IP: net.ParseIP("198.51.100.9"), Port: 6000}
	for _, tt := range []struct {
		name    string
		port    int
		from    string // what whoami must say; "" for a refusal
		inLog   string
		refused bool
	}{
		{"trusted v1", relay(t, s.addr(), "127.0.0.2", 1, v1), "192.0.2.7:5555", "client=192.0.2.7:5555", false},
		{"trusted v2", relay(t, s.addr(), "127.0.0.2", 2, v2), "198.51.100.9:6000", "client=198.51.100.9:6000", false},
		{"untrusted with a header", relay(t, s.addr(), "127.0.0.3", 1, v1), "", "", true},
		{"trusted without a header", relay(t, s.addr(), "127.0.0.2", 0, nil), "", "", true},
		{"direct", s.port, "127.0.0.1:", "", false},
	} {
		out, err := alice.ssh([]string{"-p", strconv.Itoa(tt.port)}, "whoami")
		if tt.refused {
			if err == nil || strings.Contains(out, "user alice") {
				t.Errorf("%s: whoami went through: %v\n%s", tt.name, err, out)
			}
			continue
		}
		if err != nil || !strings.Contains(out, "from "+tt.from) {
			t.Errorf("%s: whoami = %v\n%s\nwant from %s", tt.name, err, out, tt.from)
		}
		if tt.inLog != "" && !strings.Contains(s.log(), tt.inLog) {
			t.Errorf("%s: the log does not name %s:\n%s", tt.name, tt.inLog, s.log())
		}
	}
}
