// Package drivertest is the contract every shim.Driver must pass, run
// from each driver's own tests: Run checks authentication, user models,
// allow and deny through shim.Plan, a repository path that leaves the
// root, and, for drivers with a process or a network behind them, that
// every failure (a hang, garbage, a crash, an oversized answer) denies.
//
// The caller sets up one fixed scenario in its driver's own storage: the
// users, keys and grants below. The keys are for tests only, derived
// from fixed seeds: NEVER accept them anywhere else.
package drivertest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/shim"
)

// The scenario's users.
const (
	// User owns Alice's key.
	User = "alice"
	// UnknownUser has no model: GetUserModel returns shim.ErrUnknownUser.
	UnknownUser = "nobody"
)

// Grant is one access right in the scenario. Repo is a canonical name
// (no leading "/", no ".git"); Write implies read.
type Grant struct {
	User  string
	Repo  string
	Write bool
}

// Grants is everything the scenario allows; anything else is denied.
// escape/out is granted, but Run makes ROOT/escape/out.git a symlink
// out of the root, which the shim must refuse whatever the driver says.
var Grants = []Grant{
	{User, "team/app", true},
	{User, "public/hello", false},
	{User, "escape/out", false},
}

// Repos are the repositories Run creates under the root, as bare
// repositories NAME.git; secret/x exists but is granted to nobody.
var Repos = []string{"team/app", "public/hello", "secret/x"}

// Key is a test public key: what the driver is offered, and the
// authorized_keys form a fixture stores.
type Key struct {
	Credentials   shim.Credentials
	AuthorizedKey string // "ssh-ed25519 AAAA...", no comment
}

// Alice is the key of User. Test key: NEVER use in production.
func Alice() Key { return testKey("alice") }

// Stranger is a key nobody owns. Test key: NEVER use in production.
func Stranger() Key { return testKey("stranger") }

// testKey derives an ed25519 public key from label.
func testKey(label string) Key {
	seed := sha256.Sum256([]byte("gitserver drivertest, never for production: " + label))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic("drivertest: " + err.Error())
	}
	return Key{
		Credentials: shim.Credentials{
			LoginUser:   "git",
			KeyType:     pk.Type(),
			Key:         pk.Marshal(),
			Fingerprint: ssh.FingerprintSHA256(pk),
		},
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))),
	}
}
