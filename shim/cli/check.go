package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/hooks"
	"github.com/gitserver/gitserver/internal/httpdriver/httpconf"
	"github.com/gitserver/gitserver/internal/maintain"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/sshdconf"
	"github.com/gitserver/gitserver/internal/statewrite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// CheckCmd validates the installation.
type CheckCmd struct {
	JSON       bool   `name:"json" help:"Print the findings as one JSON object, for tools: {\"ok\": bool, \"problems\": [{\"problem\": \"...\", \"hint\": \"...\"}], \"notes\": [\"...\"]}."`
	SSHDConfig string `name:"sshd-config" help:"sshd's main config file, as 'sshd -f' takes it (default: sshd's own, /etc/ssh/sshd_config). As root, check reads sshd's effective configuration for the ssh user with 'sshd -T' and says what keeps gitserver from working there." placeholder:"FILE"`
	ServeOnly  bool   `name:"serve-only" help:"This host serves git only through 'gitserver serve': do not look at sshd."`
}

// problem is one finding, with what to do about it.
type problem struct {
	What string `json:"problem"`
	Hint string `json:"hint"`
}

// Run prints every problem with a hint; the exit code is 1 when any.
func (c *CheckCmd) Run(cli *CLI, e *env) error {
	var probs []problem
	notes := []string{}
	add := func(what, hint string) { probs = append(probs, problem{what, hint}) }
	note := func(s string) { notes = append(notes, s) }
	cfg, err := config.Load(cli.Config)
	if err != nil {
		add(err.Error(), "fix the config file; 'gitserver init' writes a commented one")
	} else {
		checkInstall(cfg, add, note)
		if !c.ServeOnly {
			checkSSHD(e.ctx, cfg, c.SSHDConfig, add, note)
		}
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			OK       bool      `json:"ok"`
			Problems []problem `json:"problems"`
			Notes    []string  `json:"notes"`
		}{len(probs) == 0, append([]problem{}, probs...), notes}); err != nil {
			return err
		}
		if len(probs) > 0 {
			return exitError(1)
		}
		return nil
	}
	for _, n := range notes {
		fmt.Fprintf(e.stdout, "note: %s\n", n)
	}
	for _, p := range probs {
		fmt.Fprintf(e.stdout, "problem: %s\n  hint: %s\n", p.What, p.Hint)
	}
	if len(probs) > 0 {
		fmt.Fprintf(e.stdout, "%d problem(s)\n", len(probs))
		return exitError(1)
	}
	fmt.Fprintln(e.stdout, "ok: config, policy, key store, owners and modes look right")
	return nil
}

func checkInstall(cfg *config.Config, add func(what, hint string), note func(string)) {
	if _, err := shim.OpenDriver(cfg.Driver, setup.DriverConfig(cfg)); err != nil {
		add(err.Error(), driverHint(err))
	}
	if cfg.Driver == "file" {
		if _, err := filedriver.LoadPolicy(cfg.Policy); err != nil {
			add(err.Error(), "fix the policy file; 'gitserver init' writes a starter one")
		}
	}
	if _, err := shim.LookGit(); err != nil {
		add(err.Error(), "apt-get install git")
	}
	uid, gid := checkUser(cfg, add)
	checkOwned(cfg.Repos, "repos root", uid, gid, 0o002, add)
	checkOwned(cfg.DataDir, "data directory", uid, gid, 0o022, add)
	checkStore(cfg, uid, add)
	checkLFS(cfg, uid, add, note)
	checkMaintained(cfg, note)
	checkReplica(cfg, time.Now(), add)
	checkLog(cfg, uid, add)
	if err := hooks.Check(hooks.Dir(cfg.DataDir)); err != nil {
		add(err.Error(), "run 'gitserver init' again as root to rewrite the hooks, then chmod go-w them")
	}
	checkNotWritable(cfg.File, "config file", add)
	checkNotWritable(cfg.Policy, "policy file", add)
	checkBinary(add)
}

// driverHint says how to fix a driver that does not open. An exec
// driver's program, and the http driver's helper, must be as safe from
// others as gitserver itself.
func driverHint(err error) string {
	var unsafe *exe.UnsafeError
	switch {
	case errors.Is(err, httpconf.ErrNoHelper):
		return "driver = \"http\" runs " + httpconf.HelperName + " from gitserver's directory: build both with CGO_ENABLED=0 go build -trimpath -o /usr/local/bin/ ./cmd/..."
	case errors.As(err, &unsafe) && filepath.Base(unsafe.Path) == httpconf.HelperName:
		return "install " + httpconf.HelperName + " as root beside gitserver: install -o root -g root -m 755 " + httpconf.HelperName + " " + filepath.Dir(unsafe.Path) + "/"
	case errors.As(err, &unsafe):
		return "install the driver as root where only root can write: install -o root -g root -m 755 DRIVER /usr/local/libexec/gitserver/"
	}
	return `fix the driver's [drivers.NAME] table, or set driver = "file" in the config`
}

// checkUser looks the ssh user up: its login shell runs the forced
// command, sshd without PAM refuses an account whose password is locked
// with "!", and a home inside the repos root would put ~/.ssh and the
// user's dotfiles where a repository name could reach them.
func checkUser(cfg *config.Config, add func(string, string)) (uid, gid int) {
	name := cfg.SSHUser
	u, err := user.Lookup(name)
	if err != nil {
		add(fmt.Sprintf("ssh user %q does not exist", name), setup.Useradd(name, cfg.DataDir))
		return -1, -1
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if sh := loginShell(name); sh != "" && !strings.HasSuffix(sh, "sh") {
		add(fmt.Sprintf("ssh user %s has login shell %s; sshd runs the forced command through it", name, sh), "usermod --shell /bin/sh "+name)
	}
	if locked(name) {
		add(fmt.Sprintf("ssh user %s is locked (its password starts with '!'): sshd with UsePAM no refuses every login", name),
			"usermod --password '*' "+name+"   # no password, but not locked")
	}
	if sshdconf.Inside(u.HomeDir, cfg.Repos) {
		add(fmt.Sprintf("ssh user %s has its home %s inside the repos root %s", name, u.HomeDir, cfg.Repos),
			"usermod --home "+cfg.DataDir+" "+name+" (the data directory; or choose another repos directory)")
	}
	return uid, gid
}

// locked reports whether name's password in /etc/shadow (readable by root
// only; false when it cannot be read) starts with "!".
func locked(name string) bool {
	data, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) >= 2 && f[0] == name {
			return strings.HasPrefix(f[1], "!")
		}
	}
	return false
}

// loginShell reads the user's shell from /etc/passwd ("" when unknown).
func loginShell(name string) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == name {
			return f[6]
		}
	}
	return ""
}

// checkOwned wants dir to exist, belong to the ssh user and not carry the
// forbidden mode bits.
func checkOwned(dir, what string, uid, gid int, forbidden fs.FileMode, add func(string, string)) {
	fi, err := os.Stat(dir)
	if err != nil {
		add(fmt.Sprintf("%s %s: %v", what, dir, err), "run 'gitserver init' to create it")
		return
	}
	if !fi.IsDir() {
		add(fmt.Sprintf("%s %s is not a directory", what, dir), "point the config at a directory")
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && uid >= 0 && int(st.Uid) != uid {
		add(fmt.Sprintf("%s %s is owned by uid %d, not the ssh user", what, dir, st.Uid), fmt.Sprintf("chown -R %d:%d %s", uid, gid, dir))
	}
	if fi.Mode().Perm()&forbidden != 0 {
		add(fmt.Sprintf("%s %s has mode %v", what, dir, fi.Mode().Perm()), fmt.Sprintf("chmod %o %s", fi.Mode().Perm()&^forbidden, dir))
	}
}

// checkLog wants the log file, when it exists, to belong to the ssh user,
// who writes it from sshd's side; otherwise its lines are dropped there.
func checkLog(cfg *config.Config, uid int, add func(string, string)) {
	if cfg.Log.File == "syslog" {
		return
	}
	path := cfg.LogPath()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			add(fmt.Sprintf("log directory %s: %v", filepath.Dir(path), err), "mkdir -p "+filepath.Dir(path)+" and give it to the ssh user, or set [log] file")
		}
		return
	}
	if err != nil {
		add(err.Error(), "check the log file's directory")
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && uid >= 0 && int(st.Uid) != uid {
		add(fmt.Sprintf("log file %s is owned by uid %d, not the ssh user: logins cannot write to it", path, st.Uid), fmt.Sprintf("chown %d %s", uid, path))
	}
}

// replicaBehind is how far behind a replica's last confirmation check
// calls a problem: replicate confirms every poll (1 s by default).
const replicaBehind = time.Minute

// checkReplica checks, when [store] names PostgreSQL, that the replica
// daemon is installed and that the key store is a replica confirmed
// current within replicaBehind of now.
func checkReplica(cfg *config.Config, now time.Time, add func(string, string)) {
	if !cfg.Store.Configured() {
		return
	}
	if _, err := cfg.Store.DSN(); err != nil {
		add(err.Error(), "fix [store] in the config")
	}
	if _, err := statewrite.FindHelper(); err != nil {
		add(fmt.Sprintf("[store] is set, but the replica daemon cannot run: %v", err), statewrite.HelperHint)
	}
	last, at, ok, err := keys.Open(cfg.KeysPath(), keys.Options{}).ReplicaState()
	switch {
	case err != nil:
		return // checkStore names a store that cannot be read
	case !ok:
		add("[store] is set, but the key store "+cfg.KeysPath()+" is no replica yet: logins use only what was added here",
			"start the replica daemon: systemctl enable --now gitserver-replicate (or gitserver replicate)")
	case now.Sub(at) > replicaBehind:
		add(fmt.Sprintf("the key store's replica was last confirmed current %s ago (change %d): removed keys may still log in here",
			now.Sub(at).Round(time.Second), last),
			"is gitserver replicate running and reaching PostgreSQL? see its log, and 'gitserver replicate --status'")
	}
}

func checkStore(cfg *config.Config, uid int, add func(string, string)) {
	path := cfg.KeysPath()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		add("the key store "+path+" does not exist yet: nobody can log in", "gitserver keys add --user NAME KEYFILE")
		return
	}
	if err != nil {
		add(err.Error(), "check the data directory's permissions")
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && uid >= 0 && int(st.Uid) != uid {
		add(fmt.Sprintf("key store %s is owned by uid %d, not the ssh user", path, st.Uid), fmt.Sprintf("chown %d %s", uid, path))
	}
	if fi.Mode().Perm()&0o022 != 0 {
		add(fmt.Sprintf("key store %s has mode %v: others could add keys", path, fi.Mode().Perm()), "chmod 640 "+path)
	}
	if _, err := keys.Open(path, keys.Options{}).Count(); err != nil {
		add(fmt.Sprintf("key store %s: %v", path, err), "restore it from a backup, or re-add the keys")
	}
}

func checkNotWritable(path, what string, add func(string, string)) {
	fi, err := os.Stat(path)
	if err != nil {
		add(fmt.Sprintf("%s: %v", what, err), "run 'gitserver init' to write one")
		return
	}
	if fi.Mode().Perm()&0o022 != 0 {
		add(fmt.Sprintf("%s %s has mode %v: others could change access", what, path, fi.Mode().Perm()), "chmod 644 "+path)
	}
}

// checkBinary applies sshd's rule for AuthorizedKeysCommand to this
// program, which sshd runs: the file and every directory above it are
// owned by root and not group or world writable, or sshd refuses it.
func checkBinary(add func(string, string)) {
	self, err := exe.Self()
	if err != nil {
		add(err.Error(), "run gitserver by its absolute path")
		return
	}
	if err := exe.CheckForSSHD(self); err != nil {
		add(err.Error()+"; sshd refuses such an AuthorizedKeysCommand",
			"install it as root in /usr/local/bin: install -o root -g root -m 755 gitserver /usr/local/bin/")
	}
}

// checkLFS looks at the repositories' LFS directories: the ssh user
// writes objects, uploads and locks there, so each must be its own, and
// an upload file older than a day is the leftover of a killed session.
func checkLFS(cfg *config.Config, uid int, add func(string, string), note func(string)) {
	if !cfg.LFS.Enabled {
		note("Git LFS is turned off ([lfs] enabled = false)")
		return
	}
	repos, stale := 0, 0
	_ = filedriver.WalkRepos(cfg.Repos, func(name, dir string) error {
		lfsDir := filepath.Join(dir, "lfs")
		if _, err := os.Stat(lfsDir); err != nil {
			return nil
		}
		repos++
		for _, d := range []string{lfsDir, filepath.Join(lfsDir, "objects"), filepath.Join(lfsDir, "tmp"), filepath.Join(lfsDir, "locks")} {
			fi, err := os.Stat(d)
			if err != nil {
				continue
			}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && uid >= 0 && int(st.Uid) != uid {
				add(fmt.Sprintf("%s: %s is owned by uid %d, not the ssh user: LFS uploads and locks there fail", name, d, st.Uid),
					fmt.Sprintf("chown -R %s: %s", cfg.SSHUser, lfsDir))
				break
			}
		}
		ents, _ := os.ReadDir(filepath.Join(lfsDir, "tmp"))
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
				stale++
			}
		}
		return nil
	})
	note(fmt.Sprintf("Git LFS: on, objects up to %s; %d repositories hold LFS objects or locks", humanBytes(int64(cfg.LFS.MaxObjectSize)), repos))
	if stale > 0 {
		note(fmt.Sprintf("Git LFS: %d upload files older than a day are left from killed sessions; 'gitserver lfs gc --all' removes them", stale))
	}
}

// checkMaintained warns about repositories that need maintenance and
// have had none for over a week: neither serve's schedule nor the
// systemd timer is running it.
func checkMaintained(cfg *config.Config, note func(string)) {
	now := time.Now()
	var stale []string
	_ = filedriver.WalkRepos(cfg.Repos, func(name, dir string) error {
		st, err := maintain.Inspect(dir)
		if err != nil {
			return nil
		}
		needs := len(maintain.Decide(name, st, now, false)) > 0 && (st.Loose >= maintain.LooseLimit || st.Packs > maintain.PackLimit)
		if needs && now.Sub(st.Last) > 7*24*time.Hour {
			stale = append(stale, name)
		}
		return nil
	})
	if len(stale) == 0 {
		return
	}
	more := ""
	if len(stale) > 3 {
		more = fmt.Sprintf(" and %d more", len(stale)-3)
		stale = stale[:3]
	}
	note(fmt.Sprintf("warning: %s%s need maintenance and have had none for over a week: run 'gitserver maintain --all' as the ssh user, and enable contrib/systemd/gitserver-maintain.timer (serve runs it itself, [maintain] interval)",
		strings.Join(stale, ", "), more))
}
