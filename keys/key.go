package keys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLineLen is the longest key or import line accepted, in bytes. It is
// far above the longest line OpenSSH writes for an RSA key of 16384 bits.
const MaxLineLen = 16 << 10

// Key is a public key. Keys come from package keys/sshkey, which parses
// and validates untrusted text; the store checks that a Key is consistent
// (see Record.Check) but does not parse key material, so that the process
// sshd starts at every login does not link an SSH implementation.
type Key struct {
	Type        string // the key's own type, e.g. "ssh-ed25519"
	Blob        []byte // SSH wire format, as ssh.PublicKey.Marshal returns it
	Comment     string // the comment on the line, if any; printable
	Fingerprint string // Fingerprint(Blob), "SHA256:..."
}

// AuthorizedKey returns the key as one authorized_keys line, "type base64",
// without comment or newline.
func (k Key) AuthorizedKey() string {
	return k.Type + " " + base64.StdEncoding.EncodeToString(k.Blob)
}

// Fingerprint returns the SHA256 fingerprint of a wire-format key blob,
// "SHA256:" and unpadded base64, as ssh-keygen -l and sshd print it.
func Fingerprint(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// The key types a store accepts; DSA and certificates are named to be
// refused with a reason.
var allowedTypes = map[string]bool{
	"ssh-ed25519":                        true,
	"sk-ssh-ed25519@openssh.com":         true,
	"ecdsa-sha2-nistp256":                true,
	"ecdsa-sha2-nistp384":                true,
	"ecdsa-sha2-nistp521":                true,
	"sk-ecdsa-sha2-nistp256@openssh.com": true,
	"ssh-rsa":                            true,
}

const (
	typeDSA    = "ssh-dss"
	certSuffix = "-cert-v01@openssh.com"
)

// CheckType rejects a key type the store does not accept, saying why.
func CheckType(t string) error {
	switch {
	case allowedTypes[t]:
		return nil
	case t == typeDSA:
		return errors.New("keys: DSA keys (ssh-dss) are insecure and not accepted; use ed25519")
	case strings.HasSuffix(t, certSuffix):
		return errors.New("keys: certificates are not accepted; give the plain public key")
	}
	return fmt.Errorf("keys: key type %s is not supported; use ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048 bits or more) or a security key type", Quote(t))
}

// blobType returns the key type a wire-format blob starts with.
func blobType(blob []byte) (string, bool) {
	if len(blob) < 4 {
		return "", false
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) {
		return "", false
	}
	return string(blob[4 : 4+n]), true
}

// CheckComment checks a key's comment: printable UTF-8.
func CheckComment(comment string) error { return checkText("comment", comment) }

// CheckTitle checks the title of a record.
func CheckTitle(title string) error {
	if len(title) > MaxTitleLen {
		return fmt.Errorf("keys: title is longer than %d bytes; shorten it", MaxTitleLen)
	}
	return checkText("title", title)
}

// checkText rejects text (a comment or title) that is not valid UTF-8 or
// holds a character that is not printable, such as a control character.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("keys: %s is not valid UTF-8", what)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("keys: %s contains the non-printable character %U; remove it", what, r)
		}
	}
	return nil
}

// Quote returns s quoted, cut to a length fit for an error message about
// untrusted input.
func Quote(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// DecodeKey checks a key given as its type and base64 data (sshd's %t and
// %k, or the fields of a key line): no longer than MaxLineLen, a type the
// store accepts, canonical padded base64 (one spelling per key). It
// returns the decoded data, not yet parsed.
func DecodeKey(keyType, b64 string) ([]byte, error) {
	if len(keyType)+len(b64) > MaxLineLen {
		return nil, fmt.Errorf("keys: key is longer than %d bytes", MaxLineLen)
	}
	if err := CheckType(keyType); err != nil {
		return nil, err
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodeToString(blob) != b64 {
		return nil, errors.New("keys: key data is not valid base64; copy the whole line of the .pub file")
	}
	return blob, nil
}
