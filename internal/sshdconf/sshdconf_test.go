package sshdconf

import (
	"strings"
	"testing"
)

// good is sshd -T output (trimmed) for the block 'gitserver sshd-config'
// prints.
const good = `port 22
usepam yes
pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication no
permittty no
disableforwarding yes
permittunnel no
permituserrc no
exposeauthinfo no
pidfile /run/sshd.pid
forcecommand none
authorizedkeyscommand /usr/local/bin/gitserver --config /etc/gitserver/config.toml authorized-keys %u %t %k
authorizedkeyscommanduser git
authorizedkeysfile none
acceptenv LANG
acceptenv LC_* GIT_PROTOCOL
`

// goodForce is the ForceCommand variant.
var goodForce = edit(good,
	"forcecommand none", "forcecommand /usr/local/bin/gitserver --config /etc/gitserver/config.toml shell",
	"authorizedkeyscommand /usr/local/bin/gitserver --config /etc/gitserver/config.toml authorized-keys %u %t %k", "authorizedkeyscommand none",
	"authorizedkeyscommanduser git", "authorizedkeyscommanduser none",
	"authorizedkeysfile none", "authorizedkeysfile /etc/gitserver/authorized_keys",
	"exposeauthinfo no", "exposeauthinfo yes")

func edit(s string, oldnew ...string) string {
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			panic("edit: no " + oldnew[i])
		}
		s = strings.Replace(s, oldnew[i], oldnew[i+1], 1)
	}
	return s
}

var want = Want{
	User: "git", Home: "/var/lib/gitserver-home", Repos: "/srv/git",
	Config: "/etc/gitserver/config.toml", DefaultConfig: "/etc/gitserver/config.toml",
	Self: "/usr/local/bin/gitserver",
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name, out string
		served    bool
		want      string // in the one finding; "" for none
	}{
		{"drop-in as printed", good, true, ""},
		{"force command as printed", goodForce, true, ""},
		{"no block", edit(good, "authorizedkeyscommand /usr/local/bin/gitserver --config /etc/gitserver/config.toml authorized-keys %u %t %k", "authorizedkeyscommand none"), false, "runs no gitserver"},
		{"other program", edit(good, "/usr/local/bin/gitserver --config", "/opt/old/gitserver --config"), true, "runs /opt/old/gitserver, not this gitserver"},
		{"other config", edit(good, "--config /etc/gitserver/config.toml", "--config /etc/other.toml"), true, "reads config /etc/other.toml"},
		{"default config", edit(good, "--config /etc/gitserver/config.toml ", ""), true, ""},
		{"missing %k", edit(good, " %k\n", "\n"), true, "must be \"authorized-keys %u %t %k\""},
		{"keys file too", edit(good, "authorizedkeysfile none", "authorizedkeysfile .ssh/authorized_keys"), true, "also reads keys"},
		{"no keys command user", edit(good, "authorizedkeyscommanduser git", "authorizedkeyscommanduser none"), true, "no AuthorizedKeysCommandUser"},
		{"force command overrides", edit(good, "forcecommand none", "forcecommand internal-sftp"), true, "overrides the command"},
		{"passwords", edit(good, "passwordauthentication no", "passwordauthentication yes"), true, "allows passwordauthentication"},
		{"no GIT_PROTOCOL", edit(good, "acceptenv LC_* GIT_PROTOCOL", "acceptenv LC_*"), true, "GIT_PROTOCOL"},
		{"GIT_* pattern", edit(good, "acceptenv LC_* GIT_PROTOCOL", "acceptenv GIT_*"), true, ""},
		{"no pubkey", edit(good, "pubkeyauthentication yes", "pubkeyauthentication no"), true, "refuses public-key logins"},
		{"force without expose", edit(goodForce, "exposeauthinfo yes", "exposeauthinfo no"), true, "without ExposeAuthInfo"},
		{"force keys in repos", edit(goodForce, "authorizedkeysfile /etc/gitserver/authorized_keys", "authorizedkeysfile /srv/git/%u/authorized_keys"), true, "/srv/git/git/authorized_keys, inside the repos root"},
		{"force keys in home in repos", edit(goodForce, "authorizedkeysfile /etc/gitserver/authorized_keys", "authorizedkeysfile .ssh/authorized_keys"), true, ""},
		{"force no keys file", edit(goodForce, "authorizedkeysfile /etc/gitserver/authorized_keys", "authorizedkeysfile none"), true, "no AuthorizedKeysFile"},
		{"force forwarding", edit(goodForce, "disableforwarding yes", "disableforwarding no"), true, "disableforwarding no"},
		{"force shell args", edit(goodForce, "config.toml shell", "config.toml shell --user alice"), true, "must be \"shell\""},
	} {
		e, err := Parse([]byte(tt.out))
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		r := Check(e, want)
		if r.Served != tt.served {
			t.Errorf("%s: Served = %v, want %v", tt.name, r.Served, tt.served)
		}
		switch {
		case tt.want == "" && len(r.Findings) > 0:
			t.Errorf("%s: findings %+v, want none", tt.name, r.Findings)
		case tt.want != "" && (len(r.Findings) != 1 || !strings.Contains(r.Findings[0].What, tt.want) || r.Findings[0].Hint == ""):
			t.Errorf("%s: findings %+v, want one with %q and a hint", tt.name, r.Findings, tt.want)
		}
	}
}

func TestCheckHomeInRepos(t *testing.T) {
	w := want
	w.Home = "/srv/git/home"
	e, _ := Parse([]byte(edit(goodForce, "authorizedkeysfile /etc/gitserver/authorized_keys", "authorizedkeysfile .ssh/authorized_keys %h/.ssh/authorized_keys2")))
	if r := Check(e, w); len(r.Findings) != 2 {
		t.Errorf("findings %+v, want two: both files are in the repos root", r.Findings)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, out := range []string{"", "port 22\n", strings.Repeat("x", maxOutput+1)} {
		if _, err := Parse([]byte(out)); err == nil {
			t.Errorf("Parse(%.20q...) = nil error", out)
		}
	}
}

func TestExpandKeysFile(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{".ssh/authorized_keys", "/home/git/.ssh/authorized_keys"},
		{"/etc/ssh/keys/%u", "/etc/ssh/keys/git"},
		{"%h/k%%", "/home/git/k%"},
		{"/a/../b", "/b"},
	} {
		if got := expandKeysFile(tt.in, "git", "/home/git"); got != tt.want {
			t.Errorf("expandKeysFile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseCheck(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(goodForce))
	f.Fuzz(func(t *testing.T, out []byte) {
		if e, err := Parse(out); err == nil {
			Check(e, want)
		}
	})
}
