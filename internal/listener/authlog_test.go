package listener

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// authLine is the line a failed authentication writes; its groups are
// the client, login, method, key and reason.
var authLine = regexp.MustCompile(`(?m)^\S+ \[INFO\]  authentication failed: client=(127\.0\.0\.1:\d+) login=("(?:[^"\\]|\\.)*") method="([a-z-]+)" key="(SHA256:[0-9A-Za-z+/]{43}|)" reason="([a-z ]+)"$`)

// authFailure is one authentication failed line, as the test expects it.
type authFailure struct{ login, method, key, reason string }

// authFailures returns the authentication failed lines of log.
func authFailures(log string) []authFailure {
	var out []authFailure
	for _, m := range authLine.FindAllStringSubmatch(log, -1) {
		out = append(out, authFailure{m[2], m[3], m[4], m[5]})
	}
	return out
}

func fingerprint(s ssh.Signer) string { return ssh.FingerprintSHA256(s.PublicKey()) }

func rsaSigner(t *testing.T, bits int) ssh.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuthFailureLines logs in every way that fails, with x/crypto's
// client: each attempt writes exactly one line, with the login, the
// offered key and why; a successful login writes none.
func TestAuthFailureLines(t *testing.T) {
	alice, stranger, other, badName := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	weak := rsaSigner(t, 1024)
	d := fakeDriver{fingerprint(alice): "alice", fingerprint(badName): "bad\nname"}
	addr, _, log := startServerLog(t, d, testLimits())
	pk := func(login string, s ssh.Signer, reason string) authFailure {
		return authFailure{login, "publickey", fingerprint(s), reason}
	}
	cases := []struct {
		name string
		user string
		auth ssh.AuthMethod
		want []authFailure
	}{
		{"unknown key", "git", ssh.PublicKeys(stranger), []authFailure{pk(`"git"`, stranger, reasonUnknownKey)}},
		{"two unknown keys", "git", ssh.PublicKeys(stranger, other), []authFailure{pk(`"git"`, stranger, reasonUnknownKey), pk(`"git"`, other, reasonUnknownKey)}},
		{"wrong login name", "root", ssh.PublicKeys(alice), []authFailure{pk(`"root"`, alice, reasonLoginName)}},
		{"login holding a newline", "git\nFAKE [INFO] x", ssh.PublicKeys(alice), []authFailure{pk(`"git\nFAKE [INFO] x"`, alice, reasonLoginName)}},
		{"known key, bad signature", "git", ssh.PublicKeys(impostor{alice.PublicKey(), stranger}), []authFailure{pk(`"git"`, alice, reasonSignature)}},
		{"RSA key of 1024 bits", "git", ssh.PublicKeys(weak), []authFailure{pk(`"git"`, weak, reasonKey)}},
		{"driver returns an invalid username", "git", ssh.PublicKeys(badName), []authFailure{pk(`"git"`, badName, reasonServer)}},
	}
	seen := 0
	for i, c := range cases {
		if cl, err := dial(t, addr, c.user, c.auth); err == nil {
			cl.Close()
			t.Fatalf("%s: login succeeded", c.name)
		}
		// The connection's last line: every line it wrote is in.
		all := log.waitFor(t, " handshake failed: ", i+1)
		got := authFailures(all)[seen:]
		seen += len(got)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: lines %v, want %v", c.name, got, c.want)
		}
	}
	cl, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	cl.Close()
	all := log.waitFor(t, " connection open: ", 1)
	if got := authFailures(all)[seen:]; len(got) != 0 {
		t.Errorf("successful login: lines %v, want none", got)
	}
	if n := strings.Count(all, "authentication failed"); n != seen {
		t.Errorf("%d authentication failed lines, %d of them in the fixed format:\n%s", n, seen, all)
	}
}

// TestAuthLogCallbacks feeds logAttempt what neither OpenSSH nor
// x/crypto's client sends to a server offering publickey only.
func TestAuthLogCallbacks(t *testing.T) {
	cases := []struct {
		method string
		err    error
		want   []authFailure
	}{
		{"none", ssh.ErrNoAuth, nil},
		{"password", errors.New("ssh: password auth not configured"), []authFailure{{`"git"`, "password", "", reasonMethod}}},
		{"keyboard-interactive", errors.New("not configured"), []authFailure{{`"git"`, "keyboard-interactive", "", reasonMethod}}},
		{"publickey", errors.New(`ssh: algorithm "ssh-rsa" not accepted`), []authFailure{{`"git"`, "publickey", "", reasonRequest}}},
		{"publickey", nil, nil},
	}
	for _, c := range cases {
		var buf strings.Builder
		a := &authLog{log: hclog.New(&hclog.LoggerOptions{Output: &buf}), obs: nopObserver{}}
		a.logAttempt(fakeMeta{}, c.method, c.err)
		if got := authFailures(buf.String()); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("logAttempt(%s, %v): lines %v, want %v\n%s", c.method, c.err, got, c.want, buf.String())
		}
	}
}

// TestAuthLogNone: the "none" request every client sends first is not an
// attempt; another one is.
func TestAuthLogNone(t *testing.T) {
	var buf strings.Builder
	a := &authLog{log: hclog.New(&hclog.LoggerOptions{Output: &buf}), obs: nopObserver{}}
	for range 3 {
		a.logAttempt(fakeMeta{}, "none", ssh.ErrNoAuth)
	}
	want := []authFailure{{`"git"`, "none", "", reasonMethod}, {`"git"`, "none", "", reasonMethod}}
	if got := authFailures(buf.String()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("three none requests: lines %v, want %v\n%s", got, want, buf.String())
	}
}

// TestAuthLogClientGone: a client told its key is acceptable that then
// goes away, or whose connection breaks, made no failed attempt.
func TestAuthLogClientGone(t *testing.T) {
	for _, err := range []error{
		&ssh.ServerAuthError{},
		io.EOF,
		&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")},
	} {
		var buf strings.Builder
		a := &authLog{log: hclog.New(&hclog.LoggerOptions{Output: &buf}), obs: nopObserver{}}
		a.accepted = &attempt{"127.0.0.1:1", "git", "publickey", "SHA256:" + strings.Repeat("A", 43), reasonSignature}
		a.handshakeFailed(err)
		if buf.Len() != 0 {
			t.Errorf("handshakeFailed(%v) logged:\n%s", err, buf.String())
		}
	}
}
