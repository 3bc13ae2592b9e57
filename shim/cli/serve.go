package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/listener"
	"github.com/gitserver/gitserver/internal/metrics/event"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// ServeCmd runs gitserver's own SSH listener, without OpenSSH. When the
// config file does not exist it runs the embedded default: everything
// below --data, listening on 127.0.0.1:2222, as the current user.
type ServeCmd struct {
	AdminKey string `name:"admin-key" type:"path" help:"Public key file (e.g. ~/.ssh/id_ed25519.pub) to add as user admin." placeholder:"FILE"`
	Data     string `default:"gitserver-data" type:"path" help:"Directory for config, keys, host key and repositories when the config file does not exist." placeholder:"DIR"`
	Listen   string `help:"Address to listen on, instead of listen.address (e.g. 127.0.0.1:2222)." placeholder:"HOST:PORT"`

	trust *proxyTrust // listen.proxy_protocol_from, when set
	sink  *event.Sink // metrics events for gitserver-deliver, when metrics_listen is set
}

// adminUser and helloRepo are what the embedded default sets up.
const (
	adminUser = "admin"
	helloRepo = "hello"
)

const defaultServeConfig = `# gitserver configuration, written by 'gitserver serve' (embedded default).
# Relative paths are relative to this file's directory.
ssh_user = "git"
repos = "repos"
data_dir = "."
policy = "policy.toml"
driver = "file"

[log]
# Empty means data_dir/gitserver.log.
file = ""
level = "info"
format = "text"

[listen]
address = "127.0.0.1:2222"
`

const defaultServePolicy = `# gitserver access policy, written by 'gitserver serve' (embedded default).
# Rules are tried in order; the first rule whose repos and users match
# decides. Levels: none, read, write, force, create, admin.
# Check a decision with: gitserver access USER REPO [LEVEL] [--ref REF]

[groups]
admins = ["` + adminUser + `"]

# Full access: push, force-push and delete, create repositories by
# pushing to them, and manage other users' keys over SSH.
[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"
`

// Run sets up, listens, and serves until SIGTERM or SIGINT; SIGHUP
// reloads the config, driver and host keys. The policy needs no SIGHUP:
// the file driver reads it again whenever it changed.
func (c *ServeCmd) Run(cli *CLI, e *env) error {
	path, embedded, err := c.configPath(cli, e)
	if err != nil {
		return err
	}
	a, err := loadServe(path)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := c.prepare(a, e, embedded); err != nil {
		return err
	}
	log := a.Log.Named("serve")
	if a.Cfg.MetricsListen != "" {
		if _, err := findDeliver(); err != nil {
			return fmt.Errorf("metrics_listen is set, and %s serves the metrics: %w\nhint: %s", DeliverHelper, err, deliverHint)
		}
		c.sink = event.NewSink(sinkBuffer)
	}
	setup, err := c.setup(a, e)
	if err != nil {
		return err
	}
	srv, err := listener.New(log, setup)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", a.Cfg.Listen.Address)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if l, err = c.proxied(log, a.Cfg.Listen, l); err != nil {
		return err // config.Load validated it: not reached
	}
	log.Info("listening", "address", l.Addr().String(), "config", path)
	fmt.Fprintf(e.stdout, "listening on %s\n", l.Addr())
	fmt.Fprintf(e.stdout, "clone with: git clone %s\n", cloneURL(a.Cfg, l.Addr()))
	return c.serve(a, path, srv, l, e)
}

// configPath is the config file to use: --config if it exists, else the
// embedded default's DATA/config.toml, written if missing.
func (c *ServeCmd) configPath(cli *CLI, e *env) (path string, embedded bool, err error) {
	if _, err := os.Stat(cli.Config); err == nil {
		return cli.Config, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(c.Data, 0o750); err != nil {
		return "", false, err
	}
	path = filepath.Join(c.Data, "config.toml")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.stdout, "no config at %s: using the embedded default in %s\n", cli.Config, c.Data)
	}
	for _, f := range []struct{ path, body string }{
		{path, defaultServeConfig},
		{filepath.Join(c.Data, "policy.toml"), defaultServePolicy},
	} {
		body := f.body
		if err := writeNewQuiet(f.path, func(w *os.File) error { _, err := w.WriteString(body); return err }); err != nil {
			return "", false, err
		}
	}
	return path, true, nil
}

// writeNewQuiet creates path unless it exists.
func writeNewQuiet(path string, write func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadServe reads the config and opens the log. serve runs as whoever
// starts it: files it creates are that user's, git's HOME is theirs, and
// ssh_user is only the login name clients use, not a system user.
func loadServe(path string) (*app, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = cfg.DataDir
	}
	return &app{setup.New(cfg, setup.Owner{UID: -1, GID: -1, Home: home})}, nil
}

// prepare applies --listen, adds the admin key, checks that someone can
// log in, and in the embedded default creates the first repository.
func (c *ServeCmd) prepare(a *app, e *env, embedded bool) error {
	if c.Listen != "" {
		a.Cfg.Listen.Address = c.Listen
		if err := a.Cfg.Validate(); err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
	}
	if embedded {
		if err := os.MkdirAll(a.Cfg.Repos, 0o750); err != nil {
			return err
		}
	}
	if c.AdminKey != "" {
		if err := addAdminKey(a, e, c.AdminKey); err != nil {
			return err
		}
	}
	n, err := a.Store().Count()
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no keys yet: run 'gitserver serve --admin-key ~/.ssh/id_ed25519.pub'")
	}
	if embedded {
		return createHello(a, e)
	}
	return nil
}

// addAdminKey adds the keys in file for the admin user, unless they are
// already there.
func addAdminKey(a *app, e *env, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("--admin-key: %w", err)
	}
	defer f.Close()
	parsed, errs := sshkey.ParseLines(f)
	if len(errs) > 0 {
		return fmt.Errorf("--admin-key %s:%v", file, errs[0])
	}
	if len(parsed) == 0 {
		return fmt.Errorf("--admin-key %s: no key; give a .pub file like ~/.ssh/id_ed25519.pub", file)
	}
	recs := make([]keys.Record, len(parsed))
	for i, k := range parsed {
		recs[i] = keys.Record{User: adminUser, Title: k.Comment, Key: k}
	}
	added, err := a.Store().Add(recs)
	if err != nil {
		return fmt.Errorf("--admin-key: %w", err)
	}
	for _, r := range added {
		a.Log.Named("keys").Info("key added", "user", r.User, "key", r.Key.Fingerprint, "type", r.Key.Type, "title", r.Title)
		fmt.Fprintf(e.stdout, "added key %s for user %s\n", r.Key.Fingerprint, r.User)
	}
	return nil
}

// createHello creates REPOS/hello.git when the repos root is empty.
func createHello(a *app, e *env) error {
	entries, err := os.ReadDir(a.Cfg.Repos)
	if err != nil || len(entries) > 0 {
		return err
	}
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	dir := filepath.Join(a.Cfg.Repos, shim.DirName(helloRepo))
	if err := setup.CreateBareRepo(git, dir, setup.DefaultBranch(git, a.Owner.Home)); err != nil {
		return err
	}
	a.Log.Named("repos").Info("repository created", "repo", helloRepo, "dir", dir)
	fmt.Fprintf(e.stdout, "created repository %s (%s)\n", helloRepo, dir)
	return nil
}

// setup builds what the listener serves with from the config: driver,
// shim, host keys (generated if missing) and limits. A policy that does
// not parse is an error now, not at the first request.
func (c *ServeCmd) setup(a *app, e *env) (*listener.Setup, error) {
	if a.Cfg.Driver == "file" {
		if _, err := filedriver.LoadPolicy(a.Cfg.Policy); err != nil {
			return nil, err
		}
	}
	d, err := a.Driver()
	if err != nil {
		return nil, err
	}
	sh, err := a.Shim(d, a.Log.Named("serve"))
	if err != nil {
		return nil, err
	}
	// Written once at start (and at each reload), not at every push.
	hooksDir, err := a.EnsureHooks()
	if err != nil {
		return nil, err
	}
	sh.Hooks = a.HooksFor(hooksDir, d)
	var obs listener.Observer
	if c.sink != nil {
		obs = c.sink
		sh.Observe = requestObserver(c.sink, a.Cfg.MetricsRepoLabels)
	}
	hks, err := listener.LoadHostKeys(a.Cfg.HostKeys())
	if err != nil {
		return nil, err
	}
	for _, hk := range hks {
		a.Log.Named("serve").Info("host key", "path", hk.Path, "type", hk.Signer.PublicKey().Type(), "fingerprint", hk.Fingerprint, "generated", hk.Generated)
		if e != nil {
			fmt.Fprintf(e.stdout, "host key %s %s\n", hk.Signer.PublicKey().Type(), hk.Fingerprint)
		}
	}
	l := a.Cfg.Listen
	return &listener.Setup{
		SSHUser:  a.Cfg.SSHUser,
		Shim:     sh,
		HostKeys: hks,
		Close:    func() { closeDriver(a.Log, d) },
		Limits: listener.Limits{
			LoginGraceTime:       time.Duration(l.LoginGraceTime),
			MaxAuthTries:         l.MaxAuthTries,
			MaxStartups:          l.MaxStartups,
			PerSourceMaxStartups: l.PerSourceMaxStartups,
			IdleTimeout:          time.Duration(l.IdleTimeout),
			MaxChannels:          l.MaxChannels,
		},
		Observer: obs,
	}, nil
}

// serve runs srv on l until a signal says stop; SIGHUP reloads.
func (c *ServeCmd) serve(a *app, path string, srv *listener.Server, l net.Listener, e *env) error {
	log := a.Log.Named("serve")
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	mctx, stopMaintain := context.WithCancel(e.ctx)
	defer stopMaintain()
	go maintainLoop(mctx, log, path, time.Duration(a.Cfg.Maintain.Interval), c.sink)
	go deliverLoop(mctx, log, path, c.sink)
	c.sink.SetReady(true)
	for {
		select {
		case err := <-errc:
			log.Error("listener failed", "error", err)
			return err
		case <-e.ctx.Done():
			return c.shutdown(a, srv)
		case s := <-sigs:
			if s != syscall.SIGHUP {
				log.Info("shutting down", "signal", s.String())
				return c.shutdown(a, srv)
			}
			c.reload(a, path, srv)
		}
	}
}

// shutdown lets running git commands finish, for at most drain_timeout.
func (c *ServeCmd) shutdown(a *app, srv *listener.Server) error {
	c.sink.SetReady(false)
	log := a.Log.Named("serve")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(a.Cfg.Listen.DrainTimeout))
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("drain timeout: running git commands were terminated", "drain_timeout", a.Cfg.Listen.DrainTimeout, "error", err)
		return nil
	}
	log.Info("stopped", "drained_in", time.Since(start))
	return nil
}

// reload reads the config, policy and host keys again for new
// connections. On any error the running setup stays.
func (c *ServeCmd) reload(a *app, path string, srv *listener.Server) {
	log := a.Log.Named("serve")
	cfg, err := config.Load(path)
	if err != nil {
		log.Error("reload failed; keeping the running config", "error", err)
		return
	}
	if c.Listen != "" {
		cfg.Listen.Address = c.Listen
	}
	if cfg.MetricsListen != a.Cfg.MetricsListen || cfg.MetricsRepoLabels != a.Cfg.MetricsRepoLabels {
		log.Warn("metrics_listen or metrics_repo_labels changed; restart serve to apply", "running", a.Cfg.MetricsListen, "config", cfg.MetricsListen)
		cfg.MetricsListen, cfg.MetricsRepoLabels = a.Cfg.MetricsListen, a.Cfg.MetricsRepoLabels
	}
	if cfg.Listen.Address != a.Cfg.Listen.Address {
		log.Warn("listen.address changed; restart to listen there", "running", a.Cfg.Listen.Address, "config", cfg.Listen.Address)
		cfg.Listen.Address = a.Cfg.Listen.Address
	}
	next := &app{&setup.App{Cfg: cfg, Log: a.Log, Owner: a.Owner}}
	gen, err := c.setup(next, nil)
	if err == nil {
		err = srv.Reload(gen)
	}
	if err != nil {
		log.Error("reload failed; keeping the running config", "error", err)
		return
	}
	c.reloadProxies(log, cfg.Listen)
	a.Cfg = cfg
	log.Info("reloaded", "config", path)
}

// cloneURL shows how to clone: hello.git when it exists.
func cloneURL(cfg *config.Config, addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "HOST"
	}
	repo := "NAME.git"
	if _, err := os.Stat(filepath.Join(cfg.Repos, shim.DirName(helloRepo), "HEAD")); err == nil {
		repo = shim.DirName(helloRepo)
	}
	return fmt.Sprintf("ssh://%s@%s/%s", cfg.SSHUser, net.JoinHostPort(host, port), repo)
}

// closeDriver closes a driver that holds a process (exec), once the
// listener no longer uses it.
func closeDriver(log hclog.Logger, d shim.Driver) {
	if c, ok := d.(io.Closer); ok {
		if err := c.Close(); err != nil {
			log.Named("serve").Warn("closing the driver", "error", err)
		}
	}
}

// sinkBuffer is how many metrics events wait for the helper before
// more are dropped (and counted).
const sinkBuffer = 8192

// requestObserver sends each request's summary to sink; the repository
// only with repoLabels.
func requestObserver(sink *event.Sink, repoLabels bool) func(shim.Summary) {
	return func(o shim.Summary) {
		e := event.Event{Kind: event.Request, Service: o.Service, Result: o.Result, Seconds: o.Duration.Seconds(), In: o.BytesIn, Out: o.BytesOut}
		if repoLabels {
			e.Repo = o.Repo
		}
		sink.Send(e)
	}
}
