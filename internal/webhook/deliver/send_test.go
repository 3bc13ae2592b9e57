package deliver

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/webhook"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		ip             string
		public, privOK bool // allowed without allow_private, with it
	}{
		{"93.184.216.34", true, true},
		{"2606:2800:220:1::", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"10.1.2.3", false, true},
		{"192.168.0.1", false, true},
		{"172.16.5.4", false, true},
		{"fd12::1", false, true},
		{"100.64.1.1", false, true},
		{"169.254.169.254", false, false},
		{"169.254.0.1", false, false},
		{"fe80::1", false, false},
		{"fd00:ec2::254", false, false},
		{"100.100.100.200", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"::ffff:127.0.0.1", false, true},
		{"0.0.0.0", false, false},
		{"224.0.0.1", false, false},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := CheckAddr(ip, false) == nil; got != tc.public {
			t.Errorf("CheckAddr(%s, false) allows: %v, want %v", tc.ip, got, tc.public)
		}
		if got := CheckAddr(ip, true) == nil; got != tc.privOK {
			t.Errorf("CheckAddr(%s, true) allows: %v, want %v", tc.ip, got, tc.privOK)
		}
	}
}

// TestSendRefusesByName: a name that resolves to loopback is refused
// without allow_private, at the dial.
func TestSendRefusesByName(t *testing.T) {
	d := webhook.Delivery{URL: "http://localhost:9/", SecretFile: "/dev/null", Timeout: time.Second}
	err := send(context.Background(), d, time.Now())
	if err == nil {
		t.Fatal("send to localhost succeeded")
	}
	// /dev/null is an empty secret: fix that to reach the dial.
	d.SecretFile = writeSecret(t)
	if err := send(context.Background(), d, time.Now()); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("send to localhost = %v, want ErrForbiddenAddress", err)
	}
}

func writeSecret(t *testing.T) string {
	t.Helper()
	p := t.TempDir() + "/s"
	if err := writeFile(p, "x\n"); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	for i, w := range want {
		if got := backoff(i+1, 10*time.Second); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(30, 10*time.Second); got != webhook.MaxDelay {
		t.Errorf("backoff(30) = %v", got)
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
