package sshkey

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/internal/testkeys"
	"golang.org/x/crypto/ssh"
)

// checkKey checks the invariants of a Key returned without error.
func checkKey(t *testing.T, k keys.Key) {
	t.Helper()
	pk, err := ssh.ParsePublicKey(k.Blob)
	if err != nil {
		t.Fatalf("blob of accepted key does not parse: %v", err)
	}
	if k.Fingerprint != ssh.FingerprintSHA256(pk) || k.Type != pk.Type() {
		t.Fatalf("key %+v: fingerprint or type differ from re-parsed blob (%s, %s)", k, ssh.FingerprintSHA256(pk), pk.Type())
	}
	back, err := ParseLine(k.AuthorizedKey())
	if err != nil {
		t.Fatalf("ParseLine(%q) of AuthorizedKey() = %v", k.AuthorizedKey(), err)
	}
	back.Comment = k.Comment
	if back.Type != k.Type || back.Fingerprint != k.Fingerprint || !bytes.Equal(back.Blob, k.Blob) {
		t.Fatalf("ParseLine(AuthorizedKey()) = %+v, want %+v", back, k)
	}
	if keys.CheckComment(k.Comment) != nil || strings.ContainsAny(k.Comment, "\r\n") {
		t.Fatalf("accepted comment %q", k.Comment)
	}
}

func seedLines() []string {
	return []string{
		testkeys.Line(testkeys.Ed25519(1), "alice@laptop"),
		testkeys.Line(testkeys.ECDSA(384, 1), ""),
		testkeys.Line(testkeys.RSA(2048, 1), "rsa"),
		testkeys.Line(testkeys.SKEd25519(1), "sk"),
		testkeys.Line(testkeys.SKECDSA(1), "sk"),
		testkeys.Line(testkeys.Cert(1), ""),
		`command="ls" ` + testkeys.Line(testkeys.Ed25519(2), ""),
		"ssh-rsa " + testkeys.Line(testkeys.RSA(1024, 1), "")[len("ssh-rsa "):],
	}
}

func FuzzParseLine(f *testing.F) {
	for _, l := range seedLines() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		k, err := ParseLine(line)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Fatalf("error %q lacks the keys: prefix", err)
			}
			return
		}
		checkKey(t, k)
	})
}

func FuzzParseImport(f *testing.F) {
	var b strings.Builder
	for i, l := range seedLines() {
		b.WriteString("user" + string(rune('a'+i)) + " " + l + "\n")
	}
	f.Add(b.String())
	f.Add("# c\n\nalice " + testkeys.Line(testkeys.Ed25519(3), "title") + "\r\nbob x y\n")
	f.Fuzz(func(t *testing.T, input string) {
		nlines := strings.Count(input, "\n") + 1
		errs, err := ParseImport(strings.NewReader(input), func(r keys.Record) error {
			if r.Check() != nil {
				t.Fatalf("bad record accepted: %+v", r)
			}
			checkKey(t, r.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("ParseImport: %v", err)
		}
		last := 0
		for _, e := range errs {
			if e.Line <= last || e.Line > nlines || !strings.HasPrefix(e.Err.Error(), "keys: ") {
				t.Fatalf("bad line error %v after line %d of %d", e, last, nlines)
			}
			last = e.Line
		}
	})
}
