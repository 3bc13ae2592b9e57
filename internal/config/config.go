// Package config reads gitserver's config.toml.
//
// The file is decoded strictly: an unknown key is an error with its line,
// so a typo in a security setting is reported instead of silently ignored.
// Relative paths in the file are taken relative to the file's directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/gitserver/gitserver/internal/bounded"
)

// DefaultPath is where gitserver looks for its config when neither
// --config nor GITSERVER_CONFIG names one.
const DefaultPath = "/etc/gitserver/config.toml"

// maxSize bounds the config file: it is small, and a huge one is a mistake,
// refused whole (never cut). Whole MiB, for the error message.
const maxSize = 1 << 20

// Config is the decoded config file. The zero value is not useful: start
// from Default or Load.
type Config struct {
	// SSHUser is the login name clients use (git@host). Keys offered for
	// any other login are ignored by authorized-keys.
	SSHUser string `toml:"ssh_user"`
	// Repos is the repository root: every repository lives below it.
	Repos string `toml:"repos"`
	// DataDir holds the key store and, by default, the log.
	DataDir string `toml:"data_dir"`
	// Policy is the access policy file used by the file driver. Default
	// /etc/gitserver/policy.toml; with [store], DataDir/policy.toml, the
	// replica of the policy in PostgreSQL.
	Policy string `toml:"policy"`
	// Driver names the registered driver that authenticates and authorizes.
	Driver string `toml:"driver"`
	// Log says where and how the operator's log is written.
	Log Log `toml:"log"`
	// Listen configures the built-in listener ('gitserver serve').
	Listen Listen `toml:"listen"`
	// Store names the shared state in PostgreSQL, if any.
	Store Store `toml:"store"`
	// LFS configures Git LFS over SSH.
	LFS LFS `toml:"lfs"`
	// Maintain configures serve's scheduled maintenance.
	Maintain Maintain `toml:"maintain"`
	// MetricsListen is the address of the Prometheus endpoint (/metrics,
	// /health, /ready) of serve and of the webhook delivery worker, e.g.
	// "127.0.0.1:9464"; "" means none. The gitserver-deliver helper
	// serves it.
	MetricsListen string `toml:"metrics_listen"`
	// MetricsRepoLabels adds per-repository request series (a repo
	// label). Off by default: every repository then costs series.
	MetricsRepoLabels bool `toml:"metrics_repo_labels"`
	// Drivers holds each driver's own table, [drivers.NAME] (a driver
	// named in Driver cannot also be a table there, in TOML). This
	// package does not know their keys: a driver decodes its table
	// strictly with DriverSettings. Nil when the file has none.
	Drivers map[string]map[string]any `toml:"drivers"`

	// File is the path the config was read from ("" for the defaults).
	File string `toml:"-"`
	// raw is the file's text, for DriverSettings.
	raw []byte
}

// Log configures the operator's log.
type Log struct {
	// File is a path, "syslog", or "" for DataDir/gitserver.log. Never
	// stderr: behind sshd, stderr belongs to the SSH client.
	File string `toml:"file"`
	// Level is trace, debug, info, warn or error.
	Level string `toml:"level"`
	// Format is "text" or "json".
	Format string `toml:"format"`
}

// Default returns the settings used for keys the file leaves out.
func Default() Config {
	return Config{
		SSHUser:  "git",
		Repos:    "/srv/git",
		DataDir:  "/var/lib/gitserver",
		Policy:   "/etc/gitserver/policy.toml",
		Driver:   "file",
		Log:      Log{Level: "info", Format: "text"},
		Listen:   DefaultListen(),
		LFS:      DefaultLFS(),
		Maintain: DefaultMaintain(),
	}
}

// defaultPolicy is the policy file when the config names none: with a
// shared store, a replica that 'gitserver replicate' (the ssh user)
// rewrites, in DataDir, which is the ssh user's; else Default's.
func (c *Config) defaultPolicy() string {
	if c.Store.Configured() {
		return filepath.Join(c.DataDir, "policy.toml")
	}
	return Default().Policy
}

// KeysPath is the key store file inside DataDir.
func (c *Config) KeysPath() string { return filepath.Join(c.DataDir, "keys.db") }

// HostKeys are the listener's host key files, resolving the empty default.
func (c *Config) HostKeys() []string {
	if len(c.Listen.HostKeys) == 0 {
		return []string{filepath.Join(c.DataDir, "ssh_host_ed25519_key")}
	}
	return c.Listen.HostKeys
}

// LogPath is the log file, resolving the empty default.
func (c *Config) LogPath() string {
	if c.Log.File == "" {
		return filepath.Join(c.DataDir, "gitserver.log")
	}
	return c.Log.File
}

// Load reads the config file at path.
func Load(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f, err := os.Open(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config: %s does not exist; create one with 'gitserver init' or pass --config", abs)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(abs, f)
}

// Parse decodes a config from r; file names it in errors and anchors
// relative paths.
func Parse(file string, r io.Reader) (*Config, error) {
	data, err := bounded.ReadAll(r, maxSize, file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := Default()
	c.Policy = "" // to tell whether the file sets it
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(file, err)
	}
	c.File, c.raw = file, data
	c.resolve(filepath.Dir(file))
	if c.Policy == "" {
		c.Policy = c.defaultPolicy()
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", file, err)
	}
	return &c, nil
}

func decodeError(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, _ := e.Position()
		return fmt.Errorf("config: %s:%d: unknown key %q", file, row, strings.Join(e.Key(), "."))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("config: %s:%d: %s", file, row, de.Error())
	}
	return fmt.Errorf("config: %s: %w", file, err)
}

func (c *Config) resolve(dir string) {
	for _, p := range []*string{&c.Repos, &c.DataDir, &c.Policy} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i, p := range c.Listen.HostKeys {
		if !filepath.IsAbs(p) {
			c.Listen.HostKeys[i] = filepath.Join(dir, p)
		}
	}
	if f := c.Log.File; f != "" && f != "syslog" && !filepath.IsAbs(f) {
		c.Log.File = filepath.Join(dir, f)
	}
}
