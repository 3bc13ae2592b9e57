// Package pgstore keeps gitserver's shared state in PostgreSQL, the source
// of truth when several hosts serve the same users: the keys, the policy
// document (versioned: PushPolicy, Policy), and a change log from which
// each host's local replica (a keys.Store and the policy file) is kept up
// to date. Logins never read PostgreSQL; they read the local replica, so an
// unreachable database stops changes, not logins.
//
// # Commit order is id order
//
// A replica follows the log by asking for the changes after the last id it
// applied (ChangesSince). That is only correct if no change can commit
// with an id lower than one already visible: ids drawn from a sequence
// (bigserial) are handed out in the order transactions ask, not the order
// they commit, so a reader could see id 11 committed, move on, and never
// see id 10 committing a moment later.
//
// Therefore every transaction that writes takes the transaction-scoped
// advisory lock WriteLock first (pg_advisory_xact_lock), and only then
// takes its ids from the sequence. Writers are serialised: a writer gets
// its ids only after the previous writer committed or rolled back, and
// PostgreSQL releases the lock only once the commit is visible. So ids
// commit in increasing order, and a reader that sees id N has seen every
// change below N. Ids are contiguous except where a transaction rolled
// back after taking ids (a lost connection at commit); a gap is never a
// change a reader missed. Writes are quick (one batch of keys), so one
// writer at a time costs little; reads take no lock.
//
// A Snapshot reads the keys and the last change id in one REPEATABLE READ
// transaction: the keys are the state after exactly the changes up to that
// id, and a replica that loads them goes on with ChangesSince(lastID).
//
// # Security
//
// The keys table decides who may log in once replicated: whoever can
// write to these tables can add a key for any user. Give the database role
// of gitserver only to gitserver, and connect over a unix socket or TLS.
// Records are checked (keys.Record.Check) before they are written, and
// again when read back from the change log, so a hand-edited row is
// refused, not replicated.
package pgstore
