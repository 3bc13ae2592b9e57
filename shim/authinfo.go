package shim

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitserver/gitserver/internal/bounded"
)

// maxAuthInfo bounds the ExposeAuthInfo file sshd writes: a few key
// lines. A larger file is refused, never cut. Whole KiB, for the message.
const maxAuthInfo = 64 << 10

// OfferedKey is one public key sshd accepted, from SSH_USER_AUTH.
type OfferedKey struct {
	Type   string // e.g. "ssh-ed25519"
	Base64 string // the key blob, base64
}

// ParseAuthInfo reads the file sshd names in SSH_USER_AUTH when
// ExposeAuthInfo is on: one line per successful authentication method,
// "publickey TYPE BASE64" for keys. It returns the publickey entries and
// fails when there are none.
func ParseAuthInfo(r io.Reader) ([]OfferedKey, error) {
	data, err := bounded.ReadAll(r, maxAuthInfo, "auth info")
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	var out []OfferedKey
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "publickey" {
			continue
		}
		out = append(out, OfferedKey{Type: f[1], Base64: f[2]})
	}
	if len(out) == 0 {
		return nil, errors.New("shim: no publickey authentication in auth info; is ExposeAuthInfo yes set?")
	}
	return out, nil
}
