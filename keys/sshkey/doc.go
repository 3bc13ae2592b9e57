// Package sshkey parses SSH public keys from untrusted text into the
// validated keys.Key and keys.Record values that package keys stores.
// ParseKey, ParseLine, ParseLines and ParseImport read only what they are
// given; they use golang.org/x/crypto/ssh to parse the key data.
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
// capped at keys.MaxLineLen bytes; ParseLines keeps every good key in
// memory, so callers cap the size of what they pass it.
//
// Error messages start with "keys: ", as the store's do: they are shown
// to admins as they are.
package sshkey
