// Package listener is gitserver's own SSH server ('gitserver serve'): it
// accepts connections, authenticates public keys through a shim.Driver,
// and hands each session to the same request pipeline as 'gitserver
// shell' behind OpenSSH (shim.Shim.Serve), with the setup current when
// the session starts: each session is decided again against the present
// keys and policy, with the key the connection proved, so that a key
// removed, a user deleted or a policy edited bites on the next session of
// a connection that stays open.
//
// # Security
//
// Only public key authentication is offered: no password, no
// keyboard-interactive, no "none". PublicKeyCallback is called for every
// key a client offers, including keys it never proves it holds
// (CVE-2024-45337), so the callback keeps no state: it returns the user
// and key fingerprint in Permissions.Extensions, and after the handshake
// the identity is read from ServerConn.Permissions only, which x/crypto
// fills from the key that signed. VerifiedPublicKeyCallback checks again
// that the recorded fingerprint is the one of the verified key.
//
// Keys are validated by sshkey.ParseKey (no DSA, no RSA under 2048 bits, no
// certificates) before the driver sees them, and the login name must be
// the configured ssh user. The driver's answer goes through
// shim.Authenticate, which refuses an invalid username as authorized-keys
// does behind sshd.
//
// Every failed authentication writes one info line in a fixed format,
// "authentication failed: client=... login=... method=... key=...
// reason=...", for fail2ban (see authlog.go, contrib/fail2ban). x/crypto
// reports a signature that does not verify by ending the handshake, not
// through AuthLogCallback, so each connection's authLog remembers what
// the PublicKeyCallback last answered: for that log line only, never for
// the identity.
//
// Algorithms are fixed to a modern set (see Algorithms): curve25519 and
// ML-KEM hybrid key exchange, AEAD or ETM ciphers and MACs, no SHA-1
// anywhere, no NIST ECDH; x/crypto adds strict key exchange
// (kex-strict-s-v00@openssh.com) against Terrapin.
//
// Sessions are the only channel type; forwarding, agent, X11, pty and
// subsystems are refused. Of the client's environment only a well-formed
// GIT_PROTOCOL is kept (shim.ValidProtocol); git runs with the minimal
// environment shim.Env builds, never with the client's (CVE-2024-41956,
// CVE-2024-39930).
//
// Unauthenticated connections are bounded overall and per source address,
// get LoginGraceTime to authenticate, and count against no limit once
// authenticated; an authenticated connection is closed once no session
// has been open on it for IdleTimeout, whatever keepalive traffic it
// carries.
package listener
