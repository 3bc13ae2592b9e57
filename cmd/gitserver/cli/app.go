package cli

import (
	"fmt"
	"io"
	"log/syslog"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// app is a loaded config and the operator's logger: what every command
// but init starts from.
type app struct {
	cfg   *config.Config
	log   hclog.Logger
	owner owner
	close func()
	// closers are the opened drivers that hold a process.
	closers []io.Closer
}

// load reads the config and opens the log. It never logs to stderr: behind
// sshd, stderr is the SSH client's.
func load(cli *CLI) (*app, error) {
	a, err := loadConfig(cli)
	if err != nil {
		return nil, err
	}
	if a.owner, err = ownerFor(a.cfg.SSHUser); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// loadConfig is load without looking up the ssh user, for authorized-keys,
// which creates no files but the log and runs twice per login.
func loadConfig(cli *CLI) (*app, error) {
	cfg, err := config.Load(cli.Config)
	if err != nil {
		return nil, err
	}
	log, closeLog := openLog(cfg)
	a := &app{cfg: cfg, log: log, owner: owner{uid: -1, gid: -1}}
	a.close = func() { a.closeDriver(); closeLog() }
	return a, nil
}

// driver opens the configured driver. One that holds a process (exec) is
// closed by a.close, when it is the close loadConfig made.
func (a *app) driver() (shim.Driver, error) {
	d, err := shim.OpenDriver(a.cfg.Driver, driverConfig(a.cfg))
	if c, ok := d.(io.Closer); ok && err == nil {
		a.closers = append(a.closers, c)
	}
	return d, err
}

// driverConfig is what a driver's factory gets from cfg.
func driverConfig(cfg *config.Config) shim.DriverConfig {
	return shim.DriverConfig{
		Repos:    cfg.Repos,
		DataDir:  cfg.DataDir,
		Policy:   cfg.Policy,
		Settings: cfg.DriverSettings(cfg.Driver),
	}
}

// closeDriver closes the drivers opened by driver, logging failures.
func (a *app) closeDriver() {
	for _, c := range a.closers {
		if err := c.Close(); err != nil {
			a.log.Warn("closing the driver", "error", err)
		}
	}
	a.closers = nil
}

// store opens the key store; files it creates belong to the ssh user.
func (a *app) store() *keys.Store {
	return keys.Open(a.cfg.KeysPath(), a.owner.keyOptions())
}

// openLog opens the operator's log: a file (created for the ssh user), or
// syslog. When neither can be had it logs nowhere rather than to stderr.
func openLog(cfg *config.Config) (hclog.Logger, func()) {
	var out io.WriteCloser
	if cfg.Log.File == "syslog" {
		w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_AUTH, "gitserver")
		if err == nil {
			out = w
		}
	} else {
		path := cfg.LogPath()
		_, statErr := os.Stat(path)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err == nil {
			if os.IsNotExist(statErr) {
				if own, err := ownerFor(cfg.SSHUser); err == nil {
					own.chown(path)
				}
			}
			out = f
		}
	}
	if out == nil {
		return hclog.NewNullLogger(), func() {}
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "gitserver",
		Level:      hclog.LevelFromString(cfg.Log.Level),
		JSONFormat: cfg.Log.Format == "json",
		Output:     out,
		TimeFormat: "2006-01-02T15:04:05.000Z07:00",
		// UTC: comparable across hosts, and no reading of the time zone
		// database (~50 µs) in the processes sshd starts at every login.
		TimeFn: func() time.Time { return time.Now().UTC() },
	})
	return log, func() { out.Close() }
}

// owner is who files created by admin commands must belong to: the ssh
// user when we run as root, so that sshd's side can read and write them.
type owner struct {
	uid, gid int // -1 when not running as root
	home     string
}

func ownerFor(sshUser string) (owner, error) {
	u, err := user.Lookup(sshUser)
	if err != nil {
		if os.Geteuid() != 0 {
			return owner{uid: -1, gid: -1, home: os.Getenv("HOME")}, nil
		}
		return owner{}, fmt.Errorf("ssh user %q does not exist; create it: useradd --system --user-group --shell /bin/sh --home-dir /srv/git %s && usermod --password '*' %s", sshUser, sshUser, sshUser)
	}
	o := owner{uid: -1, gid: -1, home: u.HomeDir}
	if os.Geteuid() == 0 {
		o.uid, _ = strconv.Atoi(u.Uid)
		o.gid, _ = strconv.Atoi(u.Gid)
	}
	return o, nil
}

// chown gives path to the ssh user when running as root; errors are
// reported by 'gitserver check', not here.
func (o owner) chown(path string) {
	if o.uid >= 0 {
		_ = os.Lchown(path, o.uid, o.gid)
	}
}

// keyOptions makes a new key store 0640 and, as root, the ssh user's, so
// that authorized-keys (run as the ssh user) can read it.
func (o owner) keyOptions() keys.Options {
	return keys.Options{Mode: 0o640, Chown: o.uid >= 0, UID: o.uid, GID: o.gid}
}
