package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// TestReadKeyFileTooLarge: a keydir file over the limit is refused whole,
// with the limit in the message, not read as far as it fits.
func TestReadKeyFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	line := sshdtest.Keygen(t, filepath.Join(dir, "id")) + "\n"
	for _, tt := range []struct {
		name  string
		lines int
		err   string
	}{
		{"fits.pub", maxKeyFile / len(line), ""},
		{"big.pub", maxKeyFile/len(line) + 1, "big.pub is larger than 1 MiB"},
	} {
		path := filepath.Join(dir, tt.name)
		writeFile(t, path, strings.Repeat(line, tt.lines))
		ks, errs, err := readKeyFile(path)
		switch {
		case tt.err == "" && (err != nil || len(errs) != 0 || len(ks) != tt.lines):
			t.Errorf("readKeyFile(%d lines) = %d keys, %v, %v; want every key", tt.lines, len(ks), errs, err)
		case tt.err != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.err) || len(ks) != 0):
			t.Errorf("readKeyFile(%d lines) = %d keys, %v; want no key and an error ending %q", tt.lines, len(ks), err, tt.err)
		}
	}
}
