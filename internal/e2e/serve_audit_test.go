package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServeSSHAudit runs ssh-audit against serve: no algorithm it offers
// may be marked [fail] (weak kex, sha1 MACs, ssh-rsa, CBC...), and strict
// key exchange (the Terrapin countermeasure) is advertised. ssh-audit 2.5
// (Debian 12) does not know mlkem768x25519 or the strict-kex marker and
// warns about them as unknown; warnings are not failures.
func TestServeSSHAudit(t *testing.T) {
	audit, err := exec.LookPath("ssh-audit")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and ssh-audit is missing (apt-get install ssh-audit)")
		}
		t.Skip("ssh-audit not installed")
	}
	t.Parallel()
	s := newServed(t, "")
	s.client("alice", true)
	s.start()
	out, _ := exec.Command(audit, "-n", "-p", strings.Split(s.addr(), ":")[1], "127.0.0.1").CombinedOutput()
	text := string(out)
	if !strings.Contains(text, "(kex) curve25519-sha256") {
		t.Fatalf("ssh-audit did not audit the server:\n%s", text)
	}
	if strings.Contains(text, "[fail]") {
		t.Errorf("ssh-audit reports failures:\n%s", text)
	}
	for _, want := range []string{"kex-strict-s-v00@openssh.com", "(key) ssh-ed25519"} {
		if !strings.Contains(text, want) {
			t.Errorf("ssh-audit output lacks %q:\n%s", want, text)
		}
	}
	for _, weak := range []string{"ecdh-sha2-nistp", "hmac-sha1", "(key) ssh-rsa ", "-cbc", "diffie-hellman-group1"} {
		if strings.Contains(text, weak) {
			t.Errorf("serve offers %s:\n%s", weak, text)
		}
	}
}
