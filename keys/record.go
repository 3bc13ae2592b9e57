package keys

import (
	"encoding/binary"
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
	// Deploy, set exactly when User is DeployUser, makes the key a
	// deploy key: no person's, reaching only what the grant says.
	Deploy *Deploy
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
		return fmt.Errorf("keys: username %s starts with '-'; choose another name", Quote(name))
	}
	for i := 0; i < len(name); i++ {
		if !usernameByte(name[i]) {
			return fmt.Errorf("keys: username %s contains %q; use only letters, digits, '.', '_', '@' and '-'", Quote(name), name[i])
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

// Check checks that a record is fit for the store: a valid username,
// title and comment, an accepted key type that is the type in the key
// data, and the fingerprint of that data. It does not parse the key
// material (RSA size, curve points, canonical encoding): keys/sshkey,
// which every path taking a key from outside goes through, does.
func (r Record) Check() error {
	if err := ValidUsername(r.User); err != nil {
		return err
	}
	if err := CheckTitle(r.Title); err != nil {
		return err
	}
	if err := CheckType(r.Key.Type); err != nil {
		return err
	}
	if err := r.checkDeploy(); err != nil {
		return err
	}
	if len(r.Key.Blob) > MaxLineLen {
		return fmt.Errorf("keys: key data is longer than %d bytes", MaxLineLen)
	}
	if t, ok := blobType(r.Key.Blob); !ok || t != r.Key.Type || r.Key.Fingerprint != Fingerprint(r.Key.Blob) {
		return errors.New("keys: record's key type or fingerprint does not match its key data; build keys with sshkey.ParseKey or sshkey.ParseLine")
	}
	return CheckComment(r.Key.Comment)
}

// recordVersion is the version of the stored encoding written now.
//
// Version 2 is binary: the byte 2, then user, title, key type, key blob
// and comment, each as a uvarint length and its bytes, then the time the
// key was added as a varint of Unix nanoseconds. It replaced version 1
// (JSON, first byte '{'), which is still read: decoding JSON cold cost
// about 0.1 ms of every authorized-keys run, a tenth of a Go process's
// start-up.
//
// Version 3 is version 2 followed by a deploy grant (see appendDeploy);
// it is written for deploy keys only, so that a store of user keys stays
// readable by a gitserver that predates deploy keys, and one holding
// deploy keys is refused by it whole rather than read without the grants.
const recordVersion = 2

const recordVersionDeploy = 3

// maxRecord bounds a stored record: a key line, a title and a name.
const maxRecord = 2 * MaxLineLen

func encodeRecord(r Record) ([]byte, error) {
	b := make([]byte, 0, 64+len(r.User)+len(r.Title)+len(r.Key.Type)+len(r.Key.Blob)+len(r.Key.Comment))
	v := byte(recordVersion)
	if r.Deploy != nil {
		v = recordVersionDeploy
	}
	b = append(b, v)
	for _, f := range []string{r.User, r.Title, r.Key.Type, string(r.Key.Blob), r.Key.Comment} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendVarint(b, r.Added.UnixNano())
	if r.Deploy != nil {
		b = appendDeploy(b, r.Deploy)
	}
	if len(b) > maxRecord {
		return nil, fmt.Errorf("keys: record of %s is larger than %d bytes", r.Key.Fingerprint, maxRecord)
	}
	return b, nil
}

// decodeRecord decodes a stored record and checks that it belongs under fp,
// so that a damaged or edited store cannot map a key to someone else.
func decodeRecord(fp string, data []byte) (Record, error) {
	var r Record
	var err error
	switch {
	case len(data) > 0 && (data[0] == recordVersion || data[0] == recordVersionDeploy):
		r, err = decodeV2(data[1:], data[0] == recordVersionDeploy)
	case len(data) > 0 && data[0] == '{':
		r, err = decodeV1(data)
	default:
		v := -1
		if len(data) > 0 {
			v = int(data[0])
		}
		return Record{}, fmt.Errorf("keys: stored record of %s has version %d, this program reads 1 to 3; upgrade gitserver", fp, v)
	}
	if err != nil {
		return Record{}, fmt.Errorf("keys: stored record of %s is damaged: %v", fp, err)
	}
	if Fingerprint(r.Key.Blob) != fp {
		return Record{}, fmt.Errorf("keys: stored record of %s is damaged: fingerprint does not match key data", fp)
	}
	r.Key.Fingerprint = fp
	return r, nil
}

func decodeV2(b []byte, deploy bool) (Record, error) {
	var f [5]string
	for i := range f {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return Record{}, errors.New("truncated field")
		}
		f[i], b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	ns, w := binary.Varint(b)
	if w <= 0 {
		return Record{}, errors.New("bad time")
	}
	b = b[w:]
	k := Key{Type: f[2], Blob: []byte(f[3]), Comment: f[4]}
	r := Record{User: f[0], Title: f[1], Key: k, Added: time.Unix(0, ns).UTC()}
	if deploy {
		var err error
		if r.Deploy, b, err = decodeDeploy(b); err != nil {
			return Record{}, err
		}
	}
	if len(b) != 0 {
		return Record{}, errors.New("trailing bytes")
	}
	return r, nil
}

// storedRecordV1 is version 1 of the encoding, JSON.
type storedRecordV1 struct {
	V       int       `json:"v"`
	User    string    `json:"user"`
	Title   string    `json:"title,omitempty"`
	Type    string    `json:"type"`
	Blob    []byte    `json:"blob"`
	Comment string    `json:"comment,omitempty"`
	Added   time.Time `json:"added"`
}

func decodeV1(data []byte) (Record, error) {
	var s storedRecordV1
	if err := json.Unmarshal(data, &s); err != nil {
		return Record{}, err
	}
	if s.V != 1 {
		return Record{}, fmt.Errorf("version %d in a JSON record", s.V)
	}
	k := Key{Type: s.Type, Blob: s.Blob, Comment: s.Comment}
	return Record{User: s.User, Title: s.Title, Key: k, Added: s.Added}, nil
}

// storedUser returns the owner in an encoded record, reading no more than
// it needs, so that even a damaged record can be removed.
func storedUser(v []byte) string {
	if len(v) > 0 && (v[0] == recordVersion || v[0] == recordVersionDeploy) {
		n, w := binary.Uvarint(v[1:])
		if w <= 0 || n > uint64(len(v)-1-w) {
			return ""
		}
		return string(v[1+w : 1+w+int(n)])
	}
	var s struct {
		User string `json:"user"`
	}
	_ = json.Unmarshal(v, &s)
	return s.User
}
