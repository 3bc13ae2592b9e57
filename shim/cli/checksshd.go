package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/sshdconf"
)

// checkSSHD looks at sshd's effective configuration for the ssh user, as
// 'sshd -T' prints it, when it can: sshd is installed and we are root
// (sshd -T loads the host keys). A host without sshd is a serve-only host
// and hears nothing. When sshd's default configuration runs no gitserver
// at all and that sshd is not running, it is a note, not a problem: such
// a host serves git through 'gitserver serve'.
func checkSSHD(ctx context.Context, cfg *config.Config, file string, add func(string, string), note func(string)) {
	sshd := lookSSHD()
	if sshd == "" {
		if file != "" {
			add("--sshd-config given, but no sshd is installed", "apt-get install openssh-server")
		}
		return
	}
	if os.Geteuid() != 0 {
		note("sshd's effective configuration was not checked: 'sshd -T' needs root (run check as root to include it, or pass --serve-only)")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	eff, err := sshdconf.Run(ctx, sshd, file, cfg.SSHUser)
	if err != nil {
		add(err.Error(), "'sshd -t' shows what sshd refuses in its configuration")
		return
	}
	self, err := exe.Self()
	if err != nil {
		add(err.Error(), "run check from the installed gitserver")
		return
	}
	w := sshdconf.Want{User: cfg.SSHUser, Repos: cfg.Repos, Config: cfg.File, DefaultConfig: config.DefaultPath, Self: self, IsSelf: sameFile(self)}
	if u, err := user.Lookup(cfg.SSHUser); err == nil {
		w.Home = u.HomeDir
	}
	r := sshdconf.Check(eff, w)
	if !r.Served && file == "" {
		if running, known := eff.Running(); known && !running {
			note(fmt.Sprintf("sshd is not running, and its configuration runs no gitserver for user %s: fine where only 'gitserver serve' serves git", cfg.SSHUser))
			return
		}
	}
	for _, f := range r.Findings {
		add(f.What, f.Hint)
	}
	if r.Served && len(r.Findings) == 0 {
		note(fmt.Sprintf("sshd runs gitserver for user %s through %s, as it should", cfg.SSHUser, r.Via))
	}
}

// lookSSHD finds sshd on PATH or where distributions put it ("" if none).
func lookSSHD() string {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// sameFile reports whether a program path names the file self is.
func sameFile(self string) func(string) bool {
	me, err := os.Stat(self)
	return func(prog string) bool {
		fi, err2 := os.Stat(prog)
		return err == nil && err2 == nil && os.SameFile(me, fi)
	}
}
