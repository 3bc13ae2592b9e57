package shim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gitserver/gitserver/keys"
)

// Credentials is what a client proved at login: the offered public key,
// and the login name it used.
type Credentials struct {
	LoginUser   string // the SSH login name (%u), e.g. "git"
	KeyType     string // e.g. "ssh-ed25519"
	Key         []byte // the public key in SSH wire format
	Fingerprint string // "SHA256:..." of Key
}

// UserModel is whatever a driver keeps about a user between
// GetUserModel and Authorize. The shim never looks inside it.
type UserModel any

// Decision is a driver's answer to Authorize.
type Decision struct {
	Allow bool
	// Rule says what decided, for the operator's log (e.g.
	// "policy.toml:12"); never shown to the client.
	Rule string
	// Need names, for a refused ref update, the right it needed when
	// that is not the usual level ("create-ref" where the policy makes
	// creating refs its own right); "" otherwise.
	Need string
}

// ErrUnknownKey is returned by Authenticate for a key it does not know.
var ErrUnknownKey = errors.New("unknown key")

// ErrUnknownUser is returned by GetUserModel for a user it does not know.
var ErrUnknownUser = errors.New("unknown user")

// Driver is the seed's four functions: it says who a key belongs to,
// what that user may do, and where a repository lives. The shim calls
// them in that order for each request; any error denies.
type Driver interface {
	// Authenticate returns the username the credentials belong to, or
	// ErrUnknownKey.
	Authenticate(ctx context.Context, c Credentials) (user string, err error)
	// GetUserModel returns the driver's model of user, or ErrUnknownUser.
	GetUserModel(ctx context.Context, user string) (UserModel, error)
	// Authorize decides whether model may run command (a Verb constant)
	// on path, the repository path exactly as the client sent it (with a
	// leading "/" for ssh:// URLs).
	Authorize(ctx context.Context, model UserModel, command, path string) (Decision, error)
	// RepoPath maps the path a client sent to the repository's absolute
	// directory. The shim still checks that it lies inside the repos root.
	RepoPath(ctx context.Context, path string) (string, error)
}

// DriverConfig is what a driver factory gets from the config file.
type DriverConfig struct {
	Repos   string // repository root, absolute
	DataDir string // gitserver's data directory, absolute
	Policy  string // policy file, absolute
	// MaxLag bounds, for a key store that is a replica of a shared
	// store ([store] in the config), how long ago it may have been
	// confirmed current; 0 when it is no replica.
	MaxLag time.Duration
	// KeySource, for such a replica, takes the key store's writes
	// (keys.Options.Source); nil when it is no replica.
	KeySource keys.Source

	// Settings decodes the driver's own table of the config file,
	// [drivers.NAME], into v, a pointer to the driver's settings struct.
	// It decodes strictly: an unknown key is an error with its line.
	// Keys the table leaves out keep the values v already holds, so a
	// factory sets its defaults first. Nil means no table to decode; use
	// DecodeSettings rather than calling it directly.
	Settings func(v any) error
}

// DecodeSettings decodes the driver's table into v with c.Settings; when
// Settings is nil it leaves v as it is.
func (c DriverConfig) DecodeSettings(v any) error {
	if c.Settings == nil {
		return nil
	}
	return c.Settings(v)
}

// Factory builds a driver from the config.
type Factory func(cfg DriverConfig) (Driver, error)

var (
	driversMu sync.RWMutex
	drivers   = map[string]Factory{}
)

// Register makes a driver available under name, for driver = "name" in
// the config. Like database/sql, it panics on a duplicate or nil factory:
// both are programming errors found at start-up.
func Register(name string, f Factory) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if f == nil {
		panic("shim: Register factory is nil for driver " + name)
	}
	if _, dup := drivers[name]; dup {
		panic("shim: Register called twice for driver " + name)
	}
	drivers[name] = f
}

// Drivers returns the registered driver names, sorted.
func Drivers() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OpenDriver builds the driver registered under name.
func OpenDriver(name string, cfg DriverConfig) (Driver, error) {
	driversMu.RLock()
	f := drivers[name]
	driversMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("shim: unknown driver %q (registered: %s)", name, strings.Join(Drivers(), ", "))
	}
	d, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("shim: driver %q: %w", name, err)
	}
	return d, nil
}
