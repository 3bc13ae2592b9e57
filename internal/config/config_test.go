package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	c, err := Parse("/etc/gitserver/config.toml", strings.NewReader(`
ssh_user = "git"
repos = "repos"
data_dir = "/var/lib/gs"
[log]
file = "gs.log"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Repos != "/etc/gitserver/repos" || c.DataDir != "/var/lib/gs" || c.Log.File != "/etc/gitserver/gs.log" {
		t.Errorf("relative paths not anchored at the file: %+v", c)
	}
	if c.Policy != "/etc/gitserver/policy.toml" || c.Driver != "file" || c.Log.Level != "info" {
		t.Errorf("defaults not kept: %+v", c)
	}
	if c.KeysPath() != "/var/lib/gs/keys.db" {
		t.Errorf("KeysPath = %q", c.KeysPath())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ssh_user = \"git\"\nrepo = \"/x\"\n", `c.toml:2: unknown key "repo"`},
		{"[log]\nlevel = \"loud\"\n", `log.level "loud"`},
		{"[log]\nformat = \"xml\"\n", `log.format "xml"`},
		{"ssh_user = \"Root; rm\"\n", `ssh_user "Root; rm" is not a valid login name`},
		{"ssh_user = 3\n", `c.toml:1:`},
		{"repos = \"\"\n", "repos is empty"},
		{"driver = \"\"\n", "driver is empty"},
		{"[log]\nfile = \"x\"\nlevel = \"info\"\nextra = 1\n", `c.toml:4: unknown key "log.extra"`},
	} {
		_, err := Parse("c.toml", strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("/etc/gitserver/config.toml", strings.NewReader(strings.Repeat("#", maxSize+1)))
	want := "config: /etc/gitserver/config.toml is larger than 1 MiB"
	if err == nil || err.Error() != want {
		t.Errorf("Parse(%d bytes) = %v, want %s", maxSize+1, err, want)
	}
	if _, err := Parse("c.toml", strings.NewReader(strings.Repeat("#", maxSize))); err != nil {
		t.Errorf("Parse(%d bytes) = %v, want success", maxSize, err)
	}
}

func TestParseListen(t *testing.T) {
	c, err := Parse("/etc/gs/c.toml", strings.NewReader("[listen]\naddress = \":22\"\nhost_keys = [\"k1\", \"/abs/k2\"]\nidle_timeout = \"90s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen.Address != ":22" || time.Duration(c.Listen.IdleTimeout) != 90*time.Second || c.Listen.MaxStartups != 100 {
		t.Errorf("listen = %+v", c.Listen)
	}
	if got := c.HostKeys(); len(got) != 2 || got[0] != "/etc/gs/k1" || got[1] != "/abs/k2" {
		t.Errorf("HostKeys = %q", got)
	}
	for _, in := range []string{"[listen]\nidle_timeout = \"soon\"\n", "[listen]\naddress = \"nohost\"\n", "[listen]\nmax_startups = 0\n"} {
		if _, err := Parse("c.toml", strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}
