// Package setup is what every gitserver command starts from: the config, the
// operator's log, the owner of the files it creates and the driver.
//
// It links no command-line parser and no SSH implementation: the calls sshd
// makes at every login are answered from it before the command line is
// built (see shim/cli's fast path). It registers no driver: the program
// imports the drivers it serves.
package setup

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
	"github.com/gitserver/gitserver/internal/statewrite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// App is a loaded config and the operator's logger.
type App struct {
	Cfg   *config.Config
	Log   hclog.Logger
	Owner Owner
	// closeLog closes the log's file or syslog connection.
	closeLog func()
	// closers are the opened drivers that hold a process.
	closers []io.Closer
}

// Load reads the config at path and opens the log. It never logs to
// stderr: behind sshd, stderr is the SSH client's.
func Load(path string) (*App, error) {
	a, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if a.Owner, err = OwnerFor(a.Cfg.SSHUser, a.Cfg.DataDir); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// LoadConfig is Load without looking up the ssh user, for authorized-keys,
// which creates no files but the log and runs twice per login.
func LoadConfig(path string) (*App, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return New(cfg, Owner{UID: -1, GID: -1}), nil
}

// New opens the log for cfg; files the App creates belong to own.
func New(cfg *config.Config, own Owner) *App {
	log, closeLog := OpenLog(cfg)
	return &App{Cfg: cfg, Log: log, Owner: own, closeLog: closeLog}
}

// Close closes the drivers Driver opened, then the log.
func (a *App) Close() {
	a.CloseDrivers()
	if a.closeLog != nil {
		a.closeLog()
	}
}

// Driver opens the configured driver. One that holds a process (exec) is
// closed by Close or CloseDrivers.
func (a *App) Driver() (shim.Driver, error) {
	d, err := shim.OpenDriver(a.Cfg.Driver, DriverConfig(a.Cfg))
	if c, ok := d.(io.Closer); ok && err == nil {
		a.closers = append(a.closers, c)
	}
	return d, err
}

// DriverConfig is what a driver's factory gets from cfg.
func DriverConfig(cfg *config.Config) shim.DriverConfig {
	return shim.DriverConfig{
		Repos:     cfg.Repos,
		DataDir:   cfg.DataDir,
		Policy:    cfg.Policy,
		MaxLag:    cfg.Store.Lag(),
		KeySource: KeySource(cfg),
		Settings:  cfg.DriverSettings(cfg.Driver),
	}
}

// KeySource is where the key store's writes go: with [store], the shared
// store, through the helper (statewrite); else nil, the local store.
func KeySource(cfg *config.Config) keys.Source {
	if !cfg.Store.Configured() {
		return nil
	}
	return statewrite.Keys{C: SharedWriter(cfg)}
}

// SharedWriter is the client of the shared store for cfg, which must
// name one.
func SharedWriter(cfg *config.Config) *statewrite.Client {
	return &statewrite.Client{Config: cfg.File}
}

// CloseDrivers closes the drivers opened by Driver, logging failures.
func (a *App) CloseDrivers() {
	for _, c := range a.closers {
		if err := c.Close(); err != nil {
			a.Log.Warn("closing the driver", "error", err)
		}
	}
	a.closers = nil
}

// Store opens the key store; files it creates belong to the ssh user.
// With [store], it is the replica, and its writes go to the shared store.
func (a *App) Store() *keys.Store {
	opt := a.Owner.KeyOptions()
	opt.Source = KeySource(a.Cfg)
	return keys.Open(a.Cfg.KeysPath(), opt)
}

// Syslog reports whether cfg logs to syslog.
func Syslog(cfg *config.Config) bool { return cfg.Log.File == "syslog" }

// OpenLog opens the operator's log: a file (created for the ssh user), or
// syslog. When neither can be had it logs nowhere rather than to stderr.
// Every record is one line (SingleLine), whatever a client sent.
// The file is opened at the first line written: sshd starts gitserver
// three times per login, and most runs of authorized-keys log nothing.
func OpenLog(cfg *config.Config) (hclog.Logger, func()) {
	var out io.WriteCloser
	if Syslog(cfg) {
		w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_AUTH, "gitserver")
		if err != nil {
			return hclog.NewNullLogger(), func() {}
		}
		out = w
	} else {
		out = &logFile{path: cfg.LogPath(), sshUser: cfg.SSHUser}
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
	return SingleLine(log), func() { out.Close() }
}

// logFile is the log file, opened for appending at the first Write; a
// file it creates is given to the ssh user. If it cannot be opened, lines
// are dropped: behind sshd there is nowhere else to say so, and 'gitserver
// check' reports it. hclog serialises Writes.
type logFile struct {
	path, sshUser string
	f             *os.File
	failed        bool
}

func (l *logFile) Write(p []byte) (int, error) {
	if l.f == nil && !l.failed {
		_, statErr := os.Stat(l.path)
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			l.failed = true
			return len(p), nil
		}
		if os.IsNotExist(statErr) {
			if own, err := OwnerFor(l.sshUser, ""); err == nil {
				own.Chown(l.path)
			}
		}
		l.f = f
	}
	if l.f == nil {
		return len(p), nil
	}
	return l.f.Write(p)
}

func (l *logFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Owner is who files created by admin commands must belong to: the ssh
// user when we run as root, so that sshd's side can read and write them.
type Owner struct {
	UID, GID int // -1 when not running as root
	Home     string
}

// Useradd is the command that creates the ssh user the way sshd needs it:
// a POSIX login shell (sshd runs the forced command with it), a password
// of '*' (sshd without PAM refuses '!'-locked accounts), and its home,
// normally the data directory, outside the repos root.
func Useradd(sshUser, home string) string {
	return "useradd --system --user-group --shell /bin/sh --home-dir " + home + " " + sshUser + " && usermod --password '*' " + sshUser
}

// OwnerFor looks up the ssh user; home is the home to suggest if it is
// missing. Not running as root, a missing user is no error: files then
// belong to whoever runs the command.
func OwnerFor(sshUser, home string) (Owner, error) {
	u, err := user.Lookup(sshUser)
	if err != nil {
		if os.Geteuid() != 0 {
			return Owner{UID: -1, GID: -1, Home: os.Getenv("HOME")}, nil
		}
		return Owner{}, fmt.Errorf("ssh user %q does not exist; create it: %s", sshUser, Useradd(sshUser, home))
	}
	o := Owner{UID: -1, GID: -1, Home: u.HomeDir}
	if os.Geteuid() == 0 {
		o.UID, _ = strconv.Atoi(u.Uid)
		o.GID, _ = strconv.Atoi(u.Gid)
	}
	return o, nil
}

// Chown gives path to the ssh user when running as root; errors are
// reported by 'gitserver check', not here.
func (o Owner) Chown(path string) {
	if o.UID >= 0 {
		_ = os.Lchown(path, o.UID, o.GID)
	}
}

// KeyOptions makes a new key store 0640 and, as root, the ssh user's, so
// that authorized-keys (run as the ssh user) can read it.
func (o Owner) KeyOptions() keys.Options {
	return keys.Options{Mode: 0o640, Chown: o.UID >= 0, UID: o.UID, GID: o.GID}
}
