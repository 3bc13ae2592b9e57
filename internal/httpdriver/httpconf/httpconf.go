// Package httpconf is the "http" driver as the gitserver binary sees it:
// the [drivers.http] table, its checks, and a factory that runs the
// driver as a separate program, gitserver-http-driver, over the exec
// driver's protocol. It is configured by
//
//	driver = "http"
//
//	[drivers.http]
//	url        = "https://app.internal/gitserver"
//	token_file = "/etc/gitserver/driver-token"
//	ca_file    = "/etc/gitserver/internal-ca.pem"
//	timeout    = "5s"
//
// The HTTP client itself (internal/httpdriver) lives in
// gitserver-http-driver only: net/http would add 4 MB to the gitserver
// binary, and to the start-up of every 'gitserver authorized-keys' sshd
// runs, whatever the driver. This package must never import net/http.
//
// # Security
//
// The helper is gitserver-http-driver in the directory of the running
// gitserver binary, or the absolute path [drivers.http] helper names,
// checked like any exec driver program (exe.Check: owned by root or the
// user gitserver runs as, not writable by others). Both programs must come
// from the same build: gitserver passes its build id (package
// internal/version) and the helper refuses any other. It gets
// the settings as arguments: the token's file name, never the token,
// since any local user can read a process's arguments. Paths must be
// absolute (the helper runs in "/"), and the token file must not be
// readable by others.
package httpconf

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/execdriver"
	"github.com/gitserver/gitserver/shim"
)

// DefaultTimeout bounds one request when the config sets no timeout.
const DefaultTimeout = 5 * time.Second

// HelperName is the program that serves driver = "http", installed
// beside gitserver.
const HelperName = "gitserver-http-driver"

// startAllowance is added to the request timeout for the exec driver,
// which also waits for the helper to start: a request that times out is
// then reported by the helper, with its reason.
const startAllowance = time.Second

// ErrNoHelper is wrapped by the factory's error when gitserver-http-driver
// is not installed beside gitserver.
var ErrNoHelper = errors.New("httpdriver: " + HelperName + " is not installed beside gitserver")

func init() {
	shim.Register("http", open)
}

// Settings is the [drivers.http] table.
type Settings struct {
	// URL is the API's base; operations are POSTed to URL + "/" + op.
	URL string `toml:"url"`
	// TokenFile, when set, holds a bearer token (absolute path).
	TokenFile string `toml:"token_file"`
	// CAFile, when set, is the only CA trusted (PEM, absolute path).
	CAFile string `toml:"ca_file"`
	// Timeout bounds each request.
	Timeout config.Duration `toml:"timeout"`
	// Helper, when set, is the absolute path of gitserver-http-driver;
	// empty means the one beside the running gitserver.
	Helper string `toml:"helper"`
}

// helperPath finds the helper when the settings name none; tests replace
// it.
var helperPath = func() (string, error) { return exe.Beside(HelperName) }

// open is the "http" factory: it checks the table and returns the exec
// driver running the helper with the settings as arguments.
func open(cfg shim.DriverConfig) (shim.Driver, error) {
	s := Settings{Timeout: config.Duration(DefaultTimeout)}
	if err := cfg.DecodeSettings(&s); err != nil {
		return nil, err
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	helper := s.Helper
	if helper == "" {
		var err error
		if helper, err = helperPath(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(helper); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoHelper, helper)
	}
	return execdriver.New(execdriver.Settings{
		Command: append([]string{helper}, s.Args()...),
		Timeout: config.Duration(time.Duration(s.Timeout) + startAllowance),
	})
}

// Check checks what can be checked without reading secrets: the URL,
// the timeout, absolute paths, and that others cannot read the token.
func (s Settings) Check() error {
	if s.Timeout <= 0 {
		return fmt.Errorf("httpdriver: [drivers.http] timeout %v must be positive", time.Duration(s.Timeout))
	}
	if _, err := BaseURL(s.URL); err != nil {
		return err
	}
	if s.TokenFile != "" {
		if err := privateFile(s.TokenFile); err != nil {
			return err
		}
	}
	if s.CAFile != "" && !filepath.IsAbs(s.CAFile) {
		return fmt.Errorf("httpdriver: ca_file %s: give an absolute path", s.CAFile)
	}
	if s.Helper != "" && !filepath.IsAbs(s.Helper) {
		return fmt.Errorf("httpdriver: helper %s: give an absolute path", s.Helper)
	}
	return nil
}

// BaseURL checks raw, https or http to a loopback address, and returns
// it without a final "/".
func BaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New(`httpdriver: [drivers.http] url is empty; set url = "https://app.internal/gitserver"`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("httpdriver: url: %w", err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return "", fmt.Errorf("httpdriver: url %q: want scheme://host[:port][/path], without user, query or fragment", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return "", fmt.Errorf("httpdriver: url %q: use https (plain http only to a loopback address)", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// privateFile wants an absolute path to a file others cannot read.
func privateFile(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("httpdriver: token_file %s: give an absolute path", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("httpdriver: token_file: %w", err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		return fmt.Errorf("httpdriver: token_file %s has mode %v: others can read the token; chmod 640 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
