package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/policy"
	"github.com/jackc/pgx/v5"
)

// PolicyDoc is one version of the policy document.
type PolicyDoc struct {
	Version  int64     // the id of its policy change
	Document []byte    // the policy file, as pushed
	SHA256   string    // hex digest of Document
	By       string    // who pushed it, as the pushing host named them
	At       time.Time // when it was pushed
}

// policyPayload is the payload of a policy change: enough to know which
// version it is without reading the document.
type policyPayload struct {
	SHA256 string `json:"sha256"`
	By     string `json:"by"`
}

// PushPolicy stores doc as the new version of the policy, with a policy
// change, and returns the version. The caller has checked that doc
// parses (policy.Parse): PostgreSQL only keeps it. by names who pushed it,
// for 'gitserver policy log'-like questions and the replicas' logs.
func (s *Store) PushPolicy(ctx context.Context, doc []byte, by string) (version int64, err error) {
	if len(doc) > policy.MaxSize {
		return 0, fmt.Errorf("pgstore: the policy is %d bytes, the most is %d (policy.MaxSize)", len(doc), policy.MaxSize)
	}
	sum := policy.Digest(doc)
	p, err := json.Marshal(policyPayload{SHA256: sum, By: by})
	if err != nil {
		return 0, err
	}
	err = s.write(ctx, "push policy", func(tx pgx.Tx) error {
		var err error
		if version, err = s.logChanges(ctx, tx, []entry{{KindPolicy, "", p}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO gitserver_policy (version, document, sha256, pushed_by) VALUES ($1, $2, $3, $4)`,
			version, doc, sum, by)
		return err
	})
	return version, err
}

// Policy returns the policy document of version, or, with version 0, the
// newest one; ok is false when there is none.
func (s *Store) Policy(ctx context.Context, version int64) (doc PolicyDoc, ok bool, err error) {
	row := s.pool.QueryRow(ctx, `SELECT version, document, sha256, pushed_by, pushed_at FROM gitserver_policy
		WHERE $1 = 0 OR version = $1 ORDER BY version DESC LIMIT 1`, version)
	err = row.Scan(&doc.Version, &doc.Document, &doc.SHA256, &doc.By, &doc.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return PolicyDoc{}, false, nil
	case err != nil:
		return PolicyDoc{}, false, s.fail(ctx, "policy", err)
	}
	if policy.Digest(doc.Document) != doc.SHA256 {
		return PolicyDoc{}, false, fmt.Errorf("pgstore: policy version %d does not match its sha256; the row was edited by hand, push the policy again", doc.Version)
	}
	doc.At = doc.At.UTC()
	return doc, true, nil
}
