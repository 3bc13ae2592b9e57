package shim

import (
	"strings"
	"testing"
)

// TestParseAuthInfoTooLarge: a file over the limit is refused, never cut
// to the keys that fit.
func TestParseAuthInfoTooLarge(t *testing.T) {
	line := "publickey ssh-ed25519 AAAAC3Nza\n"
	big := strings.Repeat(line, maxAuthInfo/len(line)+1)
	want := "shim: auth info is larger than 64 KiB"
	if _, err := ParseAuthInfo(strings.NewReader(big)); err == nil || err.Error() != want {
		t.Errorf("ParseAuthInfo(%d bytes) = %v, want %s", len(big), err, want)
	}
	fits := big[:maxAuthInfo/len(line)*len(line)]
	if got, err := ParseAuthInfo(strings.NewReader(fits)); err != nil || len(got) != maxAuthInfo/len(line) {
		t.Errorf("ParseAuthInfo(%d bytes) = %d keys, %v; want %d keys", len(fits), len(got), err, maxAuthInfo/len(line))
	}
}
