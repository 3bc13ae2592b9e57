package keys

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxTitleLen is the longest title of a record, in bytes.
const MaxTitleLen = 200

// maxUsernameLen is the longest username, in bytes.
const maxUsernameLen = 64

// Record is a key with its owner, as the store holds it.
type Record struct {
	User  string    // owner; see ValidUsername
	Title string    // free text chosen by an admin, at most MaxTitleLen bytes, printable
	Key   Key       // the key; its Fingerprint is the record's identity
	Added time.Time // when the key was added; zero in records not yet stored
}

// ValidUsername checks that name is 1 to 64 bytes of ASCII letters, digits,
// '.', '_', '@' and '-', not starting with '-'. Non-ASCII letters are
// refused so that two names that look the same are the same name.
func ValidUsername(name string) error {
	if name == "" {
		return errors.New("keys: username is empty")
	}
	if len(name) > maxUsernameLen {
		return fmt.Errorf("keys: username is longer than %d bytes", maxUsernameLen)
	}
	if name[0] == '-' {
		return fmt.Errorf("keys: username %s starts with '-'; choose another name", quote(name))
	}
	for i := 0; i < len(name); i++ {
		if !usernameByte(name[i]) {
			return fmt.Errorf("keys: username %s contains %q; use only letters, digits, '.', '_', '@' and '-'", quote(name), name[i])
		}
	}
	return nil
}

func usernameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '_' || c == '@' || c == '-'
}

// checkTitle checks the title of a record.
func checkTitle(title string) error {
	if len(title) > MaxTitleLen {
		return fmt.Errorf("keys: title is longer than %d bytes; shorten it", MaxTitleLen)
	}
	return checkText("title", title)
}

// checkRecord validates a record given to the store by a caller, which may
// have built it by hand rather than with a Parse function.
func checkRecord(r Record) error {
	if err := ValidUsername(r.User); err != nil {
		return err
	}
	if err := checkTitle(r.Title); err != nil {
		return err
	}
	pk, err := parseBlob(r.Key.Blob)
	if err != nil {
		return err
	}
	if r.Key.Type != pk.Type() || r.Key.Fingerprint != fingerprint(r.Key.Blob) {
		return errors.New("keys: record's key type or fingerprint does not match its key data; build keys with ParseKey or ParseLine")
	}
	return checkText("comment", r.Key.Comment)
}

// recordVersion is the version of the stored encoding.
const recordVersion = 1

// storedRecord is the encoding of a Record in the store. The fingerprint
// is the bucket key and is not repeated.
type storedRecord struct {
	V       int       `json:"v"`
	User    string    `json:"user"`
	Title   string    `json:"title,omitempty"`
	Type    string    `json:"type"`
	Blob    []byte    `json:"blob"`
	Comment string    `json:"comment,omitempty"`
	Added   time.Time `json:"added"`
}

func encodeRecord(r Record) ([]byte, error) {
	return json.Marshal(storedRecord{
		V: recordVersion, User: r.User, Title: r.Title, Type: r.Key.Type,
		Blob: r.Key.Blob, Comment: r.Key.Comment, Added: r.Added.UTC(),
	})
}

// decodeRecord decodes a stored record and checks that it belongs under fp,
// so that a damaged or edited store cannot map a key to someone else.
func decodeRecord(fp string, data []byte) (Record, error) {
	var s storedRecord
	if err := json.Unmarshal(data, &s); err != nil {
		return Record{}, fmt.Errorf("keys: stored record of %s is damaged: %v", fp, err)
	}
	if s.V != recordVersion {
		return Record{}, fmt.Errorf("keys: stored record of %s has version %d, this program reads %d; upgrade gitserver", fp, s.V, recordVersion)
	}
	if fingerprint(s.Blob) != fp {
		return Record{}, fmt.Errorf("keys: stored record of %s is damaged: fingerprint does not match key data", fp)
	}
	k := Key{Type: s.Type, Blob: s.Blob, Comment: s.Comment, Fingerprint: fp}
	return Record{User: s.User, Title: s.Title, Key: k, Added: s.Added}, nil
}
