// Package keys parses SSH public keys and stores which user owns each key.
//
// ParseKey, ParseLine, ParseLines and ParseImport turn untrusted text into
// validated Keys and Records. They read only what they are given.
//
// A Store maps a key's SHA256 fingerprint (the "SHA256:..." form of
// ssh.FingerprintSHA256) to a Record in one bbolt file. sshd's
// AuthorizedKeysCommand runs a new process for every login attempt, and
// that process calls Lookup: one read-only open, one Get, one close. Its
// cost does not grow with the number of keys in any way that matters (see
// BenchmarkLookup), and no file stays open between calls, so any number of
// processes, readers and admin commands, may use the file at once.
//
// # Security
//
// Only these key types are accepted: ssh-ed25519, ecdsa-sha2-nistp256,
// ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa of 2048 to 16384 bits,
// sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com. DSA
// keys (ssh-dss) are refused as insecure, certificates because the store
// trusts keys, not certificate authorities.
//
// A key line may not carry authorized_keys options (command="...",
// restrict, from="...", ...): what a key may do is decided by the server's
// policy, never by text that came with the key. Key data must be canonical:
// padded base64 that decodes to a blob that re-encodes to the same bytes,
// with no trailing data, so each key has exactly one spelling and one
// fingerprint. Comments and titles must be printable UTF-8, so that they
// cannot forge lines or terminal output when shown to admins. Lines are
// capped at MaxLineLen bytes; ParseLines keeps every good key in memory, so
// callers cap the size of what they pass it.
//
// A key belongs to at most one user: adding a key that another user owns is
// a ConflictError, never a change of owner. Usernames are ASCII, so two
// names that look alike are alike.
//
// Lookup trusts the file only as far as it can check it: a record is
// returned only under the fingerprint of its own key data. The file must be
// writable only by the admin account; the AuthorizedKeysCommandUser needs
// only read access (a read takes a shared lock on a read-only descriptor).
// New files get mode 0640 by default, so a group can hold the readers.
//
// Writers take an exclusive lock for the length of one short transaction,
// including open and close; readers take a shared lock. A lookup therefore
// waits for at most one write transaction, which is why Import takes
// records in batches. A transaction that returned without error is on disk
// (bbolt syncs before its commit returns); a writer killed at any moment
// leaves the file at the last commit.
package keys
