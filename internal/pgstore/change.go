package pgstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/keys"
)

// The kinds of change in the log.
const (
	KindKeyAdd    = "key-add"    // Record was added
	KindKeyRemove = "key-remove" // Record was removed
	KindPolicy    = "policy"     // a new version of the policy: Policy
)

// Channel is the channel on which every writing transaction sends, with
// NOTIFY, the last change id it committed, as decimal text. A listener
// that misses a notification loses nothing: ChangesSince has every change.
const Channel = "gitserver_changes"

// Change is one entry of the change log.
type Change struct {
	ID          int64       // position in the log; commit order (see the package doc)
	Kind        string      // KindKeyAdd, KindKeyRemove or KindPolicy
	Fingerprint string      // the key changed; "" for KindPolicy
	Record      keys.Record // the record added, or the record as it was when removed
	// PolicySHA256 is, for KindPolicy, the digest of the version's
	// document (version ID), which Policy reads.
	PolicySHA256 string
}

// payload is the JSON a change carries: the whole record, so that a
// replica applies the change without another query.
type payload struct {
	User    string       `json:"user"`
	Title   string       `json:"title"`
	Type    string       `json:"type"`
	Blob    []byte       `json:"blob"` // base64 in JSON
	Comment string       `json:"comment"`
	Added   time.Time    `json:"added"`
	Deploy  *keys.Deploy `json:"deploy,omitempty"`
}

func encodePayload(r keys.Record) ([]byte, error) {
	return json.Marshal(payload{
		User: r.User, Title: r.Title, Type: r.Key.Type, Blob: r.Key.Blob,
		Comment: r.Key.Comment, Added: r.Added, Deploy: r.Deploy,
	})
}

// decodeChange builds a change from a row of the log, checking that the
// record is one the store would accept and is the row's key.
func decodeChange(id int64, kind, fp string, data []byte) (Change, error) {
	switch kind {
	case KindKeyAdd, KindKeyRemove:
	case KindPolicy:
		var p policyPayload
		if err := json.Unmarshal(data, &p); err != nil {
			return Change{}, fmt.Errorf("change %d: payload: %v", id, err)
		}
		if len(p.SHA256) != 64 || fp != "" {
			return Change{}, fmt.Errorf("change %d: not a policy change: fingerprint %s, sha256 %s", id, keys.Quote(fp), keys.Quote(p.SHA256))
		}
		return Change{ID: id, Kind: kind, PolicySHA256: p.SHA256}, nil
	default:
		return Change{}, fmt.Errorf("change %d has kind %s; this gitserver knows key-add, key-remove and policy, upgrade it", id, keys.Quote(kind))
	}
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return Change{}, fmt.Errorf("change %d: payload: %v", id, err)
	}
	k := keys.Key{Type: p.Type, Blob: p.Blob, Comment: p.Comment, Fingerprint: keys.Fingerprint(p.Blob)}
	r := keys.Record{User: p.User, Title: p.Title, Key: k, Added: p.Added.UTC(), Deploy: p.Deploy}
	if err := r.Check(); err != nil {
		return Change{}, fmt.Errorf("change %d: %w", id, err)
	}
	if k.Fingerprint != fp {
		return Change{}, fmt.Errorf("change %d: fingerprint %s does not match the key in its payload", id, keys.Quote(fp))
	}
	return Change{ID: id, Kind: kind, Fingerprint: fp, Record: r}, nil
}
