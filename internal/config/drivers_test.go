package config

import (
	"strings"
	"testing"
	"time"
)

type execSettings struct {
	Command []string          `toml:"command"`
	Timeout Duration          `toml:"timeout"`
	Env     map[string]string `toml:"env"`
}

const driversFile = `ssh_user = "git"
driver = "exec"

[log]
level = "debug"

[drivers.exec]
command = ["/usr/local/libexec/driver", "--db", "/var/lib/d.db"]
timeout = "2s"

[drivers.exec.env]
DB = "x"

[drivers.http]
url = "https://app.internal"
`

func TestDriverSettings(t *testing.T) {
	c, err := Parse("/etc/gs/c.toml", strings.NewReader(driversFile))
	if err != nil {
		t.Fatal(err)
	}
	s := execSettings{Timeout: Duration(5 * time.Second)}
	if err := c.DriverSettings("exec")(&s); err != nil {
		t.Fatalf("DriverSettings(exec) = %v", err)
	}
	if len(s.Command) != 3 || s.Command[0] != "/usr/local/libexec/driver" || time.Duration(s.Timeout) != 2*time.Second || s.Env["DB"] != "x" {
		t.Errorf("DriverSettings(exec) decoded %+v", s)
	}
	// A driver without a table keeps its defaults.
	none := execSettings{Timeout: Duration(5 * time.Second)}
	if err := c.DriverSettings("other")(&none); err != nil || time.Duration(none.Timeout) != 5*time.Second {
		t.Errorf("DriverSettings(other) = %v, %+v; want defaults kept", err, none)
	}
	// The defaults have no file and no tables.
	d := Default()
	if err := d.DriverSettings("exec")(&none); err != nil {
		t.Errorf("Default().DriverSettings = %v", err)
	}
}

func TestDriverSettingsErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"[drivers.exec]\ncommand = [\"/x\"]\ncomand = [\"/y\"]\n", `c.toml:3: unknown key "drivers.exec.comand"`},
		{"[drivers.exec]\ntimeout = \"soon\"\n", `c.toml:2:`},
		{"[drivers.exec]\ncommand = \"/x\"\n", `c.toml:2:`},
	} {
		c, err := Parse("c.toml", strings.NewReader(tt.in))
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tt.in, err)
		}
		var s execSettings
		err = c.DriverSettings("exec")(&s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DriverSettings(exec) on %q = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
	c, _ := Parse("c.toml", strings.NewReader(""))
	var s execSettings
	if err := c.DriverSettings("exec")(s); err == nil {
		t.Error("DriverSettings(non-pointer) = nil, want an error")
	}
	if err := c.DriverSettings(`a"b`)(&s); err == nil {
		t.Error(`DriverSettings("a\"b") = nil, want an error`)
	}
	if _, err := Parse("c.toml", strings.NewReader("[drivers]\nexec = 5\n")); err == nil {
		t.Error("Parse(drivers.exec = 5) = nil, want an error")
	}
}
