package listener

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// Keys of ssh.Permissions.Extensions that carry the identity from the
// authentication to the session. They are the only place it lives.
const (
	ExtUser    = "gitserver-user"     // user the driver authenticated
	ExtKey     = "gitserver-key"      // fingerprint of the key, "SHA256:..."
	ExtKeyType = "gitserver-key-type" // the key's type, e.g. "ssh-ed25519"
	ExtKeyData = "gitserver-key-data" // the key in wire format, base64
)

// ServerVersion is the identification string the server announces.
const ServerVersion = "SSH-2.0-gitserver"

// authTimeout bounds one driver.Authenticate call.
const authTimeout = 10 * time.Second

// Algorithms are what the server offers: no SHA-1, no NIST curves for
// key exchange, no CBC, no non-ETM MAC (every cipher offered is AEAD or
// has an ETM MAC available, and OpenSSH since 6.2 speaks ETM).
// x/crypto adds kex-strict-s-v00@openssh.com (Terrapin) and ext-info.
var Algorithms = ssh.Config{
	KeyExchanges: []string{ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519},
	Ciphers: []string{
		ssh.CipherChaCha20Poly1305, ssh.CipherAES256GCM, ssh.CipherAES128GCM,
		ssh.CipherAES256CTR, ssh.CipherAES128CTR,
	},
	MACs: []string{ssh.HMACSHA256ETM, ssh.HMACSHA512ETM},
}

// PublicKeyAlgorithms are the client key signature algorithms accepted
// (no ssh-rsa, which signs with SHA-1). Host key algorithms follow from
// the host keys: RSA host keys sign with rsa-sha2-512 and rsa-sha2-256
// only (see LoadHostKeys).
var PublicKeyAlgorithms = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, ssh.KeyAlgoSKECDSA256,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// Limits bound what clients may hold; see config.Listen for each.
type Limits struct {
	LoginGraceTime       time.Duration // connect to authenticated
	MaxAuthTries         int           // failed authentications per connection
	MaxStartups          int           // unauthenticated connections overall
	PerSourceMaxStartups int           // unauthenticated connections per source IP
	IdleTimeout          time.Duration // no session open for this long closes a connection
	MaxChannels          int           // open channels per connection
}

// Setup is everything the server serves with. Reload swaps it: new
// connections authenticate with the new one, and every session that
// starts from then on, also on a connection opened before, is served by
// its Shim. A Setup must not be changed once given to the Server.
type Setup struct {
	SSHUser  string     // the only login name accepted, e.g. "git"
	Shim     *shim.Shim // its Driver also authenticates keys
	HostKeys []HostKey  // at least one
	Limits   Limits
	// Observer, if set, is told of connections, authentications and
	// key lookups, for metrics.
	Observer Observer
	// Close, if set, runs once no connection uses this setup any more:
	// after Reload replaced it, or Shutdown, and the last connection that
	// started with it has ended. It closes what the setup owns (a driver
	// process, say).
	Close func()
}

// generation is a Setup with the ssh.ServerConfig built from it.
type generation struct {
	setup *Setup
	ssh   *ssh.ServerConfig
	// refs is 1 while the generation is current, plus one per connection
	// using it. At zero, setup.Close runs: a driver replaced by Reload is
	// closed once the last connection that started with it has ended.
	refs atomic.Int64
}

// acquire takes a reference unless the generation is already released.
func (g *generation) acquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes the setup.
func (g *generation) release() {
	if g.refs.Add(-1) == 0 && g.setup.Close != nil {
		g.setup.Close()
	}
}

func (s *Setup) check() error {
	switch {
	case s.Shim == nil || s.Shim.Driver == nil:
		return errors.New("listener: setup has no shim or driver")
	case s.SSHUser == "":
		return errors.New("listener: setup has no ssh user")
	case len(s.HostKeys) == 0:
		return errors.New("listener: setup has no host keys")
	}
	l := s.Limits
	if l.LoginGraceTime <= 0 || l.IdleTimeout <= 0 || l.MaxAuthTries < 1 ||
		l.MaxStartups < 1 || l.PerSourceMaxStartups < 1 || l.MaxChannels < 1 {
		return fmt.Errorf("listener: every limit must be positive: %+v", l)
	}
	return nil
}

func newGeneration(s *Setup, log hclog.Logger) (*generation, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	cfg := &ssh.ServerConfig{
		Config:                    Algorithms,
		PublicKeyAuthAlgorithms:   PublicKeyAlgorithms,
		MaxAuthTries:              s.Limits.MaxAuthTries,
		PublicKeyCallback:         publicKeyCallback(s.SSHUser, s.Shim.Driver, log, observerOf(s)),
		VerifiedPublicKeyCallback: verifiedPublicKey,
		ServerVersion:             ServerVersion,
	}
	for _, hk := range s.HostKeys {
		cfg.AddHostKey(hk.Signer)
	}
	g := &generation{setup: s, ssh: cfg}
	g.refs.Store(1)
	return g, nil
}

// publicKeyCallback answers whether key may log in as conn.User(). It is
// called for keys merely offered as well as for the key that signs, so it
// writes nothing but its result (CVE-2024-45337): the identity travels in
// the returned Permissions, which x/crypto keeps only for the key that
// signed. A refusal is an *authError, for the log line fail2ban reads.
func publicKeyCallback(sshUser string, d shim.Driver, log hclog.Logger, obs Observer) func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
	return func(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		fp := ssh.FingerprintSHA256(key)
		if conn.User() != sshUser {
			return nil, &authError{fp, reasonLoginName, nil}
		}
		k, err := sshkey.ParseKey(key.Type(), base64.StdEncoding.EncodeToString(key.Marshal()))
		if err != nil {
			log.Debug("key refused", "key", fp, "error", err, "client", conn.RemoteAddr().String())
			return nil, &authError{fp, reasonKey, err}
		}
		ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
		defer cancel()
		// shim.Authenticate also refuses a username that is not valid,
		// as authorized-keys does behind sshd.
		start := time.Now()
		user, err := shim.Authenticate(ctx, d, shim.Credentials{LoginUser: conn.User(), KeyType: k.Type, Key: k.Blob, Fingerprint: k.Fingerprint})
		obs.KeyLookup(time.Since(start))
		if errors.Is(err, shim.ErrUnknownKey) {
			return nil, &authError{k.Fingerprint, reasonUnknownKey, nil}
		}
		if err != nil {
			log.Warn("driver cannot authenticate", "key", k.Fingerprint, "error", err)
			return nil, &authError{k.Fingerprint, reasonServer, err}
		}
		return &ssh.Permissions{Extensions: map[string]string{
			ExtUser: user, ExtKey: k.Fingerprint, ExtKeyType: k.Type, ExtKeyData: base64.StdEncoding.EncodeToString(k.Blob),
		}}, nil
	}
}

// verifiedPublicKey runs once the client has signed with key: the
// permissions must be the ones recorded for that very key.
func verifiedPublicKey(_ ssh.ConnMetadata, key ssh.PublicKey, p *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if p == nil || p.Extensions[ExtUser] == "" || p.Extensions[ExtKey] != ssh.FingerprintSHA256(key) {
		return nil, errors.New("listener: permissions do not belong to the verified key")
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
