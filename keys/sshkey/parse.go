package sshkey

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/keys"
)

// minRSABits is the smallest RSA modulus accepted. The largest (16384 bits,
// OpenSSH's limit) is enforced by ssh.ParsePublicKey.
const minRSABits = 2048

// certSuffix ends the type of every OpenSSH certificate.
const certSuffix = "-cert-v01@openssh.com"

// ParseKey parses and validates a key given as its type and its base64 blob,
// the %t and %k tokens of sshd's AuthorizedKeysCommand. keyType must equal
// the type encoded in the blob, and b64 must be canonical padded base64.
func ParseKey(keyType, b64 string) (keys.Key, error) {
	blob, err := keys.DecodeKey(keyType, b64)
	if err != nil {
		return keys.Key{}, err
	}
	pk, err := parseBlob(blob)
	if err != nil {
		return keys.Key{}, err
	}
	if pk.Type() != keyType {
		return keys.Key{}, fmt.Errorf("keys: key type %q does not match the key data, which is %q", keyType, pk.Type())
	}
	return keys.Key{Type: pk.Type(), Blob: blob, Fingerprint: ssh.FingerprintSHA256(pk)}, nil
}

// ParseLine parses one authorized_keys-style line, "type base64 [comment]".
// Leading and trailing white space, including a final newline, is ignored.
// Key options such as `command="..."` or `restrict` are an error: the server
// decides what a key may do, never the line that carries it.
func ParseLine(line string) (keys.Key, error) {
	if len(line) > keys.MaxLineLen {
		return keys.Key{}, fmt.Errorf("keys: line is longer than %d bytes", keys.MaxLineLen)
	}
	line = strings.Trim(line, " \t\r\n")
	if strings.ContainsAny(line, "\r\n") {
		return keys.Key{}, errors.New("keys: more than one line given; give one key per line")
	}
	keyType, rest := cutField(line)
	if keyType == "" {
		return keys.Key{}, errors.New("keys: empty line; want \"type base64 [comment]\"")
	}
	if !isKeyTypeName(keyType) {
		return keys.Key{}, optionsOrUnknown(keyType, rest)
	}
	b64, comment := cutField(rest)
	if b64 == "" {
		return keys.Key{}, errors.New("keys: key data is missing; want \"type base64 [comment]\"")
	}
	k, err := ParseKey(keyType, b64)
	if err != nil {
		return keys.Key{}, err
	}
	if err := keys.CheckComment(comment); err != nil {
		return keys.Key{}, err
	}
	k.Comment = comment
	return k, nil
}

// cutField returns the first field of s, split at a space or tab, and the
// rest with its leading white space removed.
func cutField(s string) (field, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// isKeyTypeName reports whether s names a key type, supported or not.
func isKeyTypeName(s string) bool {
	switch {
	case keys.CheckType(s) == nil, s == "ssh-dss", strings.HasSuffix(s, certSuffix):
		return true
	case strings.HasPrefix(s, "ssh-"), strings.HasPrefix(s, "ecdsa-sha2-"), strings.HasPrefix(s, "sk-"):
		return !strings.ContainsAny(s, "=\",")
	}
	return false
}

// optionsOrUnknown explains a line whose first field is not a key type:
// either it starts with options, or the type is unknown.
func optionsOrUnknown(first, rest string) error {
	if strings.ContainsAny(first, "=\",") || isOptionName(first) {
		return errors.New("keys: key options are not allowed; remove everything before the key type")
	}
	for f := range strings.FieldsSeq(rest) {
		if isKeyTypeName(f) {
			return errors.New("keys: key options are not allowed; remove everything before the key type")
		}
	}
	return fmt.Errorf("keys: %s is not a key type; want \"type base64 [comment]\"", keys.Quote(first))
}

// isOptionName reports whether s is an authorized_keys option without a value.
func isOptionName(s string) bool {
	switch strings.ToLower(s) {
	case "restrict", "cert-authority", "no-agent-forwarding", "no-port-forwarding",
		"no-pty", "no-user-rc", "no-x11-forwarding", "agent-forwarding",
		"port-forwarding", "pty", "user-rc", "x11-forwarding", "no-touch-required",
		"verify-required":
		return true
	}
	return false
}

// parseBlob parses an SSH wire-format public key and checks that it is of an
// accepted type and size and encoded canonically.
func parseBlob(blob []byte) (ssh.PublicKey, error) {
	pk, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, fmt.Errorf("keys: key data is not a valid public key (%v); copy the whole line of the .pub file", err)
	}
	if err := keys.CheckType(pk.Type()); err != nil {
		return nil, err
	}
	if _, ok := pk.(*ssh.Certificate); ok {
		return nil, errors.New("keys: certificates are not accepted; give the plain public key")
	}
	if !bytes.Equal(pk.Marshal(), blob) {
		return nil, errors.New("keys: key data is not in canonical form; copy the line from the .pub file ssh-keygen wrote")
	}
	if err := checkRSA(pk); err != nil {
		return nil, err
	}
	return pk, nil
}

// checkRSA rejects RSA keys that are too short or malformed.
func checkRSA(pk ssh.PublicKey) error {
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return nil
	}
	rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return nil
	}
	if rk.N.Sign() <= 0 || rk.N.Bit(0) == 0 {
		return errors.New("keys: RSA modulus is invalid; generate a new key with ssh-keygen -t ed25519")
	}
	if bits := rk.N.BitLen(); bits < minRSABits {
		return fmt.Errorf("keys: RSA key of %d bits is too short; use ed25519 or RSA of at least %d bits", bits, minRSABits)
	}
	return nil
}
