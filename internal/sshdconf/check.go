package sshdconf

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// command is a gitserver command line as sshd runs it: program, the
// config it names, and the words after the global flags.
type command struct {
	line, prog, config string
	args               []string
}

// parseCommand splits an AuthorizedKeysCommand or ForceCommand line on
// blanks, as sshd does (gitserver's paths never hold blanks or quotes:
// sshd-config refuses them). It returns nil for "none" or empty.
func parseCommand(line string) *command {
	f := strings.Fields(line)
	if len(f) == 0 || line == "none" {
		return nil
	}
	c := &command{line: line, prog: f[0]}
	rest := f[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		switch flag, value, eq := strings.Cut(rest[0], "="); {
		case flag == "--config" && eq:
			c.config, rest = value, rest[1:]
		case flag == "--config" && len(rest) > 1:
			c.config, rest = rest[1], rest[2:]
		default:
			rest = rest[1:]
		}
	}
	c.args = rest
	return c
}

// gitserver reports whether the command runs a program called gitserver,
// or this one under another name.
func (c *command) gitserver(w Want) bool {
	return c != nil && (filepath.Base(c.prog) == "gitserver" || w.isSelf(c.prog))
}

func (w Want) isSelf(prog string) bool {
	if w.IsSelf != nil {
		return w.IsSelf(prog)
	}
	return filepath.Clean(prog) == filepath.Clean(w.Self)
}

// Check looks at sshd's effective configuration for w.User.
func Check(e Effective, w Want) Report {
	akc, fc := parseCommand(e.first("authorizedkeyscommand")), parseCommand(e.first("forcecommand"))
	r := Report{}
	add := func(what, hint string) { r.Findings = append(r.Findings, Finding{what, hint}) }
	switch {
	case akc.gitserver(w):
		r.Served, r.Via = true, "AuthorizedKeysCommand"
		checkProgram(akc, "AuthorizedKeysCommand", []string{"authorized-keys", "%u", "%t", "%k"}, w, add)
		checkKeysCommand(e, fc, w, add)
	case fc.gitserver(w):
		r.Served, r.Via = true, "ForceCommand"
		checkProgram(fc, "ForceCommand", []string{"shell"}, w, add)
		checkForceCommand(e, w, add)
	default:
		add(fmt.Sprintf("sshd's effective configuration for user %s runs no gitserver (AuthorizedKeysCommand %s, ForceCommand %s)", w.User, e.first("authorizedkeyscommand"), e.first("forcecommand")),
			"gitserver sshd-config > /etc/ssh/sshd_config.d/gitserver.conf, and see that sshd_config has 'Include /etc/ssh/sshd_config.d/*.conf' before any Match; then sshd -t && systemctl reload ssh (on a host where only 'gitserver serve' serves git: gitserver check --serve-only)")
		return r
	}
	if !acceptsEnv(e.values("acceptenv"), "GIT_PROTOCOL") {
		add(fmt.Sprintf("sshd does not accept GIT_PROTOCOL from clients of user %s: git protocol v2 is off", w.User), "AcceptEnv GIT_PROTOCOL in the Match block")
	}
	if e.first("pubkeyauthentication") != "yes" {
		add(fmt.Sprintf("sshd refuses public-key logins for user %s", w.User), "PubkeyAuthentication yes in the Match block")
	}
	return r
}

// checkProgram wants the command to run this gitserver, with this config
// and these arguments.
func checkProgram(c *command, directive string, args []string, w Want, add func(string, string)) {
	redo := "gitserver sshd-config prints the block for this installation: put it in place of the old one"
	if !w.isSelf(c.prog) {
		add(fmt.Sprintf("sshd's %s runs %s, not this gitserver (%s)", directive, c.prog, w.Self), redo)
	}
	config := c.config
	if config == "" {
		config = w.DefaultConfig
	}
	if filepath.Clean(config) != filepath.Clean(w.Config) {
		add(fmt.Sprintf("sshd's %s reads config %s, not %s", directive, config, w.Config), redo)
	}
	if strings.Join(c.args, " ") != strings.Join(args, " ") {
		add(fmt.Sprintf("sshd's %s is %q; after the flags it must be %q", directive, c.line, strings.Join(args, " ")), redo)
	}
}

// checkKeysCommand: gitserver's key lines carry the forced command and
// 'restrict'; anything sshd lets in another way bypasses both.
func checkKeysCommand(e Effective, fc *command, w Want, add func(string, string)) {
	if e.first("authorizedkeyscommanduser") == "none" || e.first("authorizedkeyscommanduser") == "" {
		add("sshd has no AuthorizedKeysCommandUser for user "+w.User+": it runs no AuthorizedKeysCommand without one", "AuthorizedKeysCommandUser "+w.User+" in the Match block")
	}
	if files := e.first("authorizedkeysfile"); files != "none" {
		add(fmt.Sprintf("sshd also reads keys for user %s from %s: such a key logs in without gitserver's forced command", w.User, files), "AuthorizedKeysFile none in the Match block")
	}
	if fc != nil {
		add(fmt.Sprintf("sshd's ForceCommand %q for user %s overrides the command gitserver's key line forces", fc.line, w.User), "remove that ForceCommand for the ssh user")
	}
	for _, m := range []string{"passwordauthentication", "kbdinteractiveauthentication"} {
		if e.first(m) == "yes" {
			add(fmt.Sprintf("sshd allows %s for user %s: a login without a key gets no forced command", m, w.User), "PasswordAuthentication no and KbdInteractiveAuthentication no in the Match block")
		}
	}
}

// checkForceCommand: sshd reads the keys itself and gitserver learns
// which one logged in from ExposeAuthInfo; no key line carries
// 'restrict', so the Match block must.
func checkForceCommand(e Effective, w Want, add func(string, string)) {
	if e.first("exposeauthinfo") != "yes" {
		add("sshd runs gitserver shell as ForceCommand without ExposeAuthInfo: shell cannot tell which key logged in and refuses every request", "ExposeAuthInfo yes in the Match block")
	}
	files := e.values("authorizedkeysfile")
	if len(files) == 0 || files[0] == "none" {
		add("sshd reads no AuthorizedKeysFile for user "+w.User+": with ForceCommand, sshd needs the keys itself", "gitserver sshd-config --force-command prints the whole block")
	}
	for _, f := range files {
		if f == "none" {
			continue
		}
		p := expandKeysFile(f, w.User, w.Home)
		if Inside(p, w.Repos) {
			add(fmt.Sprintf("sshd reads keys for user %s from %s, inside the repos root %s", w.User, p, w.Repos), "keep the authorized_keys file outside the repos root, e.g. AuthorizedKeysFile /etc/gitserver/authorized_keys")
		}
	}
	for _, s := range []struct{ key, want, directive string }{
		{"disableforwarding", "yes", "DisableForwarding yes"},
		{"permittunnel", "no", "PermitTunnel no"},
		{"permituserrc", "no", "PermitUserRC no"},
	} {
		if e.first(s.key) != s.want {
			add(fmt.Sprintf("sshd has %s %s for user %s, and with ForceCommand no key line says 'restrict'", s.key, e.first(s.key), w.User), s.directive+" in the Match block")
		}
	}
}

// expandKeysFile expands sshd's %%, %u and %h in an AuthorizedKeysFile
// entry; a relative one is relative to the home.
func expandKeysFile(f, user, home string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'u':
			b.WriteString(user)
		case 'h':
			b.WriteString(home)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	p := b.String()
	if !filepath.IsAbs(p) {
		p = filepath.Join(home, p)
	}
	return filepath.Clean(p)
}

// Inside reports whether path is dir or lies below it, both made
// absolute and clean (symlinks are not followed: a path that does not
// exist yet counts too). A relative path or dir is never inside.
func Inside(path, dir string) bool {
	p, d := filepath.Clean(path), filepath.Clean(dir)
	return filepath.IsAbs(p) && filepath.IsAbs(d) && (p == d || strings.HasPrefix(p, d+string(filepath.Separator)))
}

// acceptsEnv reports whether one of sshd's AcceptEnv patterns (* and ?
// wildcards) matches name.
func acceptsEnv(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
