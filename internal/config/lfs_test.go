package config

import (
	"strings"
	"testing"
)

func TestLFSConfig(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Size
		on   bool
	}{
		{"", 10 << 30, true},
		{"[lfs]\nmax_object_size = 1048576\n", 1 << 20, true},
		{"[lfs]\nmax_object_size = \"500MB\"\n", 500e6, true},
		{"[lfs]\nmax_object_size = \"2 GiB\"\nenabled = false\n", 2 << 30, false},
	} {
		c, err := Parse("/etc/gitserver/config.toml", strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.body, err)
		}
		if c.LFS.MaxObjectSize != tc.want || c.LFS.Enabled != tc.on {
			t.Errorf("Parse(%q).LFS = %+v, want size %d enabled %v", tc.body, c.LFS, tc.want, tc.on)
		}
	}
	for _, body := range []string{
		"[lfs]\nmax_object_size = \"ten gigs\"\n",
		"[lfs]\nmax_object_size = -1\n",
		"[lfs]\nmax_object_size = 0\n",
		"[lfs]\nmax_object_size = \"99999999999TiB\"\n",
		"[lfs]\nmax_size = 1\n",
	} {
		if _, err := Parse("/etc/gitserver/config.toml", strings.NewReader(body)); err == nil {
			t.Errorf("Parse(%q) accepted it", body)
		}
	}
}
