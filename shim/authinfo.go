package shim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxAuthInfo bounds the ExposeAuthInfo file sshd writes: a few key lines.
const maxAuthInfo = 64 << 10

// OfferedKey is one public key sshd accepted, from SSH_USER_AUTH.
type OfferedKey struct {
	Type   string // e.g. "ssh-ed25519"
	Base64 string // the key blob, base64
}

// ParseAuthInfo reads the file sshd names in SSH_USER_AUTH when
// ExposeAuthInfo is on: one line per successful authentication method,
// "publickey TYPE BASE64" for keys. It returns the publickey entries and
// fails when there are none, or when the file is larger than 64 KiB.
func ParseAuthInfo(r io.Reader) ([]OfferedKey, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxAuthInfo+1))
	if err != nil {
		return nil, fmt.Errorf("shim: reading auth info: %w", err)
	}
	if len(data) > maxAuthInfo {
		return nil, fmt.Errorf("shim: auth info is larger than %d bytes", maxAuthInfo)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxAuthInfo)
	var out []OfferedKey
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "publickey" {
			continue
		}
		out = append(out, OfferedKey{Type: f[1], Base64: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("shim: reading auth info: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("shim: no publickey authentication in auth info; is ExposeAuthInfo yes set?")
	}
	return out, nil
}
