package listener

import (
	"errors"
	"io"
	"net"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// Every failed authentication writes one info line in a fixed format,
// for fail2ban (contrib/fail2ban) and the like:
//
//	2026-01-02T03:04:05.678Z [INFO]  gitserver.serve: authentication failed: client=192.0.2.7:50412 login="git" method="publickey" key="SHA256:..." reason="unknown key"
//
// The message, the fields and their order do not change. client is
// IP:PORT, [IP]:PORT for IPv6; login and method are what the client sent
// (cut to 64 bytes), quoted; key is the offered key's fingerprint, quoted,
// "" when there is none; reason is one of the reason constants, quoted.
// The first "none" request every client sends, to learn the methods, is
// no attempt and is not logged; another one is. An attempt counts whether or not the client proved it holds
// the key: offering unknown keys is what a key scanner does.
const authFailed = "authentication failed"

// The reasons of the authentication failed line.
const (
	reasonUnknownKey = "unknown key"        // the driver knows no such key
	reasonLoginName  = "wrong login name"   // the login is not the ssh user
	reasonKey        = "unsupported key"    // sshkey.ParseKey refused it: RSA under 2048 bits...
	reasonSignature  = "bad signature"      // the key is known, but its signature (or what came instead) was not valid
	reasonMethod     = "method not offered" // password, keyboard-interactive...: only publickey is
	reasonRequest    = "bad request"        // x/crypto refused it unseen: algorithm not offered (ssh-rsa, DSA, certificates), malformed key
	reasonServer     = "server error"       // the driver failed: not the client's doing (the fail2ban filter ignores it)
)

// authError is a public key refused by publicKeyCallback: the offered
// key's fingerprint and a reason for the log line, the detail in err. The
// client is told none of it.
type authError struct {
	fingerprint string
	reason      string
	err         error
}

func (e *authError) Error() string {
	if e.err == nil {
		return "listener: " + e.reason
	}
	return "listener: " + e.reason + ": " + e.err.Error()
}

func (e *authError) Unwrap() error { return e.err }

// attempt is one failed authentication, as logged.
type attempt struct {
	client, login, method, key, reason string
}

// authLog logs the failed authentications of one connection.
//
// x/crypto calls AuthLogCallback for every attempt it answers, but not
// for a signature that does not verify: it ends the connection instead.
// To log that attempt with its key, authLog remembers what the
// PublicKeyCallback last accepted and last refused. That is for this log
// line only: the identity comes from the Permissions x/crypto keeps for
// the key that signed (CVE-2024-45337), never from here.
type authLog struct {
	log      hclog.Logger
	obs      Observer // counts each attempt logged, and the success
	accepted *attempt // the key last accepted, if the client then signs badly
	refused  *attempt // the last refusal, until AuthLogCallback logs it
	sawNone  bool     // the first "none" request came
}

// config is cfg with the callbacks of a, for one connection.
func (a *authLog) config(cfg *ssh.ServerConfig) *ssh.ServerConfig {
	c := *cfg
	next := cfg.PublicKeyCallback
	c.PublicKeyCallback = func(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		p, err := next(conn, key)
		at := newAttempt(conn, "publickey", err)
		if err == nil && p != nil {
			at.key, at.reason = p.Extensions[ExtKey], reasonSignature
			a.accepted = &at
		} else {
			a.refused = &at
		}
		return p, err
	}
	c.AuthLogCallback = a.logAttempt
	return &c
}

// logAttempt is the AuthLogCallback.
func (a *authLog) logAttempt(conn ssh.ConnMetadata, method string, err error) {
	if err == nil {
		return
	}
	if method == "none" && !a.sawNone {
		a.sawNone = true // every client asks once, to learn the methods
		return
	}
	a.write(newAttempt(conn, method, err))
	a.refused = nil
}

// handshakeFailed logs the attempt that ended the handshake with err: a
// refused key whose signature did not verify, or an accepted one whose
// signature did not. A client that went away or timed out made none.
func (a *authLog) handshakeFailed(err error) {
	var sae *ssh.ServerAuthError
	var ne net.Error
	if errors.As(err, &sae) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	switch {
	case a.refused != nil:
		a.write(*a.refused)
	case a.accepted != nil:
		a.write(*a.accepted)
	}
}

func (a *authLog) write(at attempt) {
	a.obs.Authentication(authResult(at.reason))
	a.log.Info(authFailed, "client", at.client, "login", hclog.Quote(at.login), "method", hclog.Quote(at.method),
		"key", hclog.Quote(at.key), "reason", hclog.Quote(at.reason))
}

// newAttempt describes an attempt with method that failed with err.
func newAttempt(conn ssh.ConnMetadata, method string, err error) attempt {
	at := attempt{client: conn.RemoteAddr().String(), login: truncate(conn.User(), 64), method: truncate(method, 64)}
	var ae *authError
	switch {
	case errors.As(err, &ae):
		at.key, at.reason = ae.fingerprint, ae.reason
	case method == "publickey":
		at.reason = reasonRequest
	default:
		at.reason = reasonMethod
	}
	return at
}
