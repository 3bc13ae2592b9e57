package sshkey

import (
	"bytes"
	"encoding/base64"
	"github.com/gitserver/gitserver/keys"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
	"golang.org/x/crypto/ssh"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestParseLineAccepts(t *testing.T) {
	for _, tt := range []struct {
		name string
		pk   ssh.PublicKey
	}{
		{"ed25519", testkeys.Ed25519(1)},
		{"ecdsa256", testkeys.ECDSA(256, 1)},
		{"ecdsa384", testkeys.ECDSA(384, 1)},
		{"ecdsa521", testkeys.ECDSA(521, 1)},
		{"rsa2048", testkeys.RSA(2048, 1)},
		{"rsa4096", testkeys.RSA(4096, 1)},
		{"sk-ed25519", testkeys.SKEd25519(1)},
		{"sk-ecdsa", testkeys.SKECDSA(1)},
	} {
		for _, line := range []string{
			testkeys.Line(tt.pk, ""),
			testkeys.Line(tt.pk, "alice@laptop") + "\n",
			"  " + testkeys.Line(tt.pk, "two  words\t") + "\r\n",
		} {
			k, err := ParseLine(line)
			if err != nil {
				t.Errorf("%s: ParseLine(%q) = %v, want nil", tt.name, line, err)
				continue
			}
			if k.Type != tt.pk.Type() || !bytes.Equal(k.Blob, tt.pk.Marshal()) || k.Fingerprint != ssh.FingerprintSHA256(tt.pk) {
				t.Errorf("%s: ParseLine(%q) = %+v, want key %s", tt.name, line, k, ssh.FingerprintSHA256(tt.pk))
			}
		}
	}
	k, _ := ParseLine(testkeys.Line(testkeys.Ed25519(1), "two  words\t"))
	if k.Comment != "two  words" {
		t.Errorf("comment = %q, want %q", k.Comment, "two  words")
	}
}

func TestParseLineRejects(t *testing.T) {
	ed := testkeys.Ed25519(1)
	edB64 := b64(ed.Marshal())
	ecB64 := b64(testkeys.ECDSA(256, 1).Marshal())
	cert := testkeys.Cert(1)
	for _, tt := range []struct {
		line string
		want string // part of the error
	}{
		{"", "empty line"},
		{"ssh-ed25519", "key data is missing"},
		{`command="ls" ` + testkeys.Line(ed, ""), "key options are not allowed"},
		{`command="echo hi" ` + testkeys.Line(ed, ""), "key options are not allowed"},
		{"restrict " + testkeys.Line(ed, ""), "key options are not allowed"},
		{"no-pty,from=\"10.0.0.1\" " + testkeys.Line(ed, ""), "key options are not allowed"},
		{"bogus " + edB64, "is not a key type"},
		{"ssh-dss " + b64(testkeys.DSABlob()), "DSA keys (ssh-dss) are insecure"},
		{"ssh-ed25519 " + b64(testkeys.DSABlob()), "not a valid public key"},
		{"ssh-rsa " + b64(testkeys.RSA(1024, 1).Marshal()), "RSA key of 1024 bits is too short; use ed25519 or RSA of at least 2048 bits"},
		{"ssh-rsa " + b64(testkeys.RSA(2047, 1).Marshal()), "RSA key of 2047 bits is too short"},
		{testkeys.Line(cert, ""), "certificates are not accepted"},
		{"ssh-ed25519 " + b64(cert.Marshal()), "certificates are not accepted"},
		{"ssh-mldsa-44 " + edB64, "not supported"},
		{"ssh-rsa " + edB64, `key type "ssh-rsa" does not match the key data, which is "ssh-ed25519"`},
		{"ecdsa-sha2-nistp384 " + ecB64, "does not match"},
		{"ssh-ed25519 " + edB64[:len(edB64)-4], "not a valid public key"},
		{"ssh-ed25519 " + edB64 + "AAAA", "trailing junk"},
		{"ssh-ed25519 " + edB64 + "A", "not valid base64"},
		{"ecdsa-sha2-nistp256 " + strings.TrimRight(ecB64, "="), "not valid base64"},
		{"ecdsa-sha2-nistp256 " + ecB64[:len(ecB64)-2] + "B=", "not valid base64"},
		{"ssh-ed25519 " + edB64[:10] + "\n" + edB64[10:], "more than one line"},
		{"ssh-ed25519 !!!!" + edB64, "not valid base64"},
		{"ssh-ed25519 " + b64(append(ed.Marshal(), 0)), "not a valid public key"},
		{"ssh-ed25519 " + edB64 + " bell\a", "non-printable character U+0007"},
		{"ssh-ed25519 " + edB64 + " esc\x1b[31m", "non-printable"},
		{"ssh-ed25519 " + edB64 + " rtl\u202etxt", "non-printable character U+202E"},
		{"ssh-ed25519 " + edB64 + " bad\xffutf8", "not valid UTF-8"},
		{"ssh-ed25519 " + edB64 + " " + strings.Repeat("x", keys.MaxLineLen), "longer than"},
	} {
		k, err := ParseLine(tt.line)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "keys: ") {
			t.Errorf("ParseLine(%q) = %+v, %v; want error containing %q", short(tt.line), k, err, tt.want)
		}
	}
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

func TestParseKey(t *testing.T) {
	ed := testkeys.Ed25519(2)
	for _, tt := range []struct {
		typ, b64 string
		ok       bool
	}{
		{"ssh-ed25519", b64(ed.Marshal()), true},
		{"ssh-rsa", b64(testkeys.RSA(3072, 2).Marshal()), true},
		{"rsa-sha2-512", b64(testkeys.RSA(3072, 2).Marshal()), false},
		{"ssh-ed25519", "", false},
		{"", b64(ed.Marshal()), false},
		{"ssh-ed25519 ", b64(ed.Marshal()), false},
		{"ssh-ed25519", b64(ed.Marshal()) + " ", false},
		{"ssh-ed25519", " " + b64(ed.Marshal()), false},
		{"ssh-ed25519-cert-v01@openssh.com", b64(testkeys.Cert(2).Marshal()), false},
	} {
		k, err := ParseKey(tt.typ, tt.b64)
		if (err == nil) != tt.ok {
			t.Errorf("ParseKey(%q, %q) = %v, want ok=%v", tt.typ, tt.b64, err, tt.ok)
		}
		if err == nil && k.AuthorizedKey() != tt.typ+" "+tt.b64 {
			t.Errorf("ParseKey(%q, %q).AuthorizedKey() = %q", tt.typ, tt.b64, k.AuthorizedKey())
		}
	}
}
