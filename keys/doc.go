// Package keys stores which user owns each SSH public key.
//
// Package keys/sshkey turns untrusted text into validated Keys and
// Records; this package does not parse key material, so the process sshd
// starts at every login (which only looks keys up) does not link an SSH
// implementation and its start-up cost. Writes check that each Record is
// consistent (Record.Check): an accepted type, the same type in the key
// data, the fingerprint of that data, a valid user, title and comment.
//
// A Store maps a key's SHA256 fingerprint (the "SHA256:..." form of
// ssh.FingerprintSHA256) to a Record in one bbolt file. sshd's
// AuthorizedKeysCommand runs a new process for every login attempt, and
// that process calls Lookup: one read-only open, one Get, one close. Its
// cost does not grow with the number of keys in any way that matters (see
// BenchmarkLookup), and no file stays open between calls, so any number of
// processes, readers and admin commands, may use the file at once.
//
// A store may be the local replica of a shared source (PostgreSQL, see
// internal/replicate): ApplyReplica and ReplaceAll write the keys together
// with the last change applied, in one transaction or one atomic rename,
// and ReplicaState reads it. Lookup never reads that state.
//
// # Security
//
// Only the key types that sshkey accepts can be stored (CheckType): DSA
// keys (ssh-dss) and certificates are refused by name.
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
