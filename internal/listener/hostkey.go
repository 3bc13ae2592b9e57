package listener

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/atomicfile"
)

// maxHostKeySize bounds a host key file; an RSA key of 16384 bits in
// OpenSSH format is about 13 KiB.
const maxHostKeySize = 64 << 10

// minRSABits is the smallest RSA host key accepted.
const minRSABits = 2048

// HostKey is a loaded host key.
type HostKey struct {
	Path        string
	Signer      ssh.Signer // RSA keys sign only with rsa-sha2-512 and rsa-sha2-256
	Fingerprint string     // "SHA256:..."
	Generated   bool       // the file did not exist and was written now
}

// LoadHostKeys loads each private key file (OpenSSH, PKCS#1, PKCS#8 or
// SEC 1 PEM, unencrypted). A missing file is generated: a new ed25519
// key, written in OpenSSH format with mode 0600, atomically. A file that
// others may read is refused, as sshd does. DSA keys, RSA keys under 2048
// bits and a second key of the same type are refused.
func LoadHostKeys(paths []string) ([]HostKey, error) {
	if len(paths) == 0 {
		return nil, errors.New("listener: no host key files configured")
	}
	seen := map[string]string{}
	out := make([]HostKey, 0, len(paths))
	for _, p := range paths {
		hk, err := loadOrGenerate(p)
		if err != nil {
			return nil, err
		}
		t := hk.Signer.PublicKey().Type()
		if prev, dup := seen[t]; dup {
			return nil, fmt.Errorf("listener: host keys %s and %s are both %s; keep one per type", prev, p, t)
		}
		seen[t] = p
		out = append(out, hk)
	}
	return out, nil
}

func loadOrGenerate(path string) (HostKey, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := GenerateHostKey(path); err != nil {
			return HostKey{}, err
		}
		hk, err := loadHostKey(path)
		hk.Generated = true
		return hk, err
	}
	if err != nil {
		return HostKey{}, fmt.Errorf("listener: host key: %w", err)
	}
	return loadHostKey(path)
}

func loadHostKey(path string) (HostKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return HostKey{}, fmt.Errorf("listener: host key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return HostKey{}, fmt.Errorf("listener: host key: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxHostKeySize {
		return HostKey{}, fmt.Errorf("listener: host key %s is not a regular file of at most %d bytes", path, maxHostKeySize)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return HostKey{}, fmt.Errorf("listener: host key %s has mode %04o, readable by others; chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return HostKey{}, fmt.Errorf("listener: host key: %w", err)
	}
	s, err := parseHostKey(data)
	if err != nil {
		return HostKey{}, fmt.Errorf("listener: host key %s: %w", path, err)
	}
	return HostKey{Path: path, Signer: s, Fingerprint: ssh.FingerprintSHA256(s.PublicKey())}, nil
}

// parseHostKey parses a private key and restricts what it may sign with.
func parseHostKey(data []byte) (ssh.Signer, error) {
	raw, err := ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("key is encrypted; a host key must be unencrypted (ssh-keygen -p -N '' -f FILE)")
	}
	if err != nil {
		return nil, err
	}
	if k, ok := raw.(*rsa.PrivateKey); ok && k.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA key of %d bits; use at least %d, or ed25519", k.N.BitLen(), minRSABits)
	}
	s, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, err
	}
	switch s.PublicKey().Type() {
	case ssh.KeyAlgoRSA:
		as, ok := s.(ssh.AlgorithmSigner)
		if !ok {
			return nil, errors.New("RSA signer cannot choose its algorithm")
		}
		return ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return s, nil
	}
	return nil, fmt.Errorf("host key type %s is not accepted; use ed25519", s.PublicKey().Type())
}

// GenerateHostKey writes a new ed25519 private key to path in OpenSSH
// format, mode 0600. It writes a temporary file in the same directory,
// syncs it and renames it into place, so path never holds half a key.
func GenerateHostKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("listener: generating host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "gitserver host key")
	if err != nil {
		return fmt.Errorf("listener: encoding host key: %w", err)
	}
	if err := atomicfile.Write(path, pem.EncodeToMemory(block), 0o600, -1, -1); err != nil {
		return fmt.Errorf("listener: host key: %w", err)
	}
	return nil
}
