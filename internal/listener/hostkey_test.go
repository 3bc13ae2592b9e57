package listener

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestGenerateHostKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	hks, err := LoadHostKeys([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if len(hks) != 1 || !hks[0].Generated || hks[0].Signer.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("LoadHostKeys(missing) = %+v, want one generated ed25519 key", hks)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Fatalf("not OpenSSH format:\n%s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
	again, err := LoadHostKeys([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Generated || again[0].Fingerprint != hks[0].Fingerprint {
		t.Fatalf("second load generated a new key: %+v vs %+v", again[0], hks[0])
	}
}

func TestLoadHostKeysFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, key any, mode os.FileMode) string {
		t.Helper()
		block, err := ssh.MarshalPrivateKey(key, "")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(block), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPath := write("rsa", rsaKey, 0o600)
	ecPath := write("ecdsa", ecKey, 0o600)
	hks, err := LoadHostKeys([]string{rsaPath, ecPath})
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := hks[0].Signer.(ssh.MultiAlgorithmSigner)
	if !ok {
		t.Fatalf("RSA signer %T cannot be restricted", hks[0].Signer)
	}
	for _, a := range ms.Algorithms() {
		if a == ssh.KeyAlgoRSA {
			t.Fatalf("RSA host key may sign with ssh-rsa (SHA-1): %v", ms.Algorithms())
		}
	}
	if hks[1].Signer.PublicKey().Type() != ssh.KeyAlgoECDSA256 {
		t.Fatalf("ecdsa key type %s", hks[1].Signer.PublicKey().Type())
	}

	for _, tc := range []struct {
		name, path, want string
	}{
		{"small rsa", write("small", smallRSA, 0o600), "1024 bits"},
		{"readable by others", write("open", ecKey, 0o644), "chmod 600"},
		{"garbage", func() string { p := filepath.Join(dir, "junk"); os.WriteFile(p, []byte("junk"), 0o600); return p }(), "junk"},
		{"two of a type", ecPath, "both"},
	} {
		paths := []string{tc.path}
		if tc.name == "two of a type" {
			paths = []string{ecPath, ecPath}
		}
		_, err := LoadHostKeys(paths)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadHostKeys = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}
