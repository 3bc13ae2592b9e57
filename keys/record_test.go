package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
)

func TestRecordEncoding(t *testing.T) {
	k := keyOf(testkeys.Ed25519(1), "laptop")
	in := Record{User: "alice", Title: "work", Key: k, Added: time.Date(2026, 11, 25, 12, 0, 0, 5, time.UTC)}
	b, err := encodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeRecord(k.Fingerprint, b)
	if err != nil {
		t.Fatal(err)
	}
	if out.User != in.User || out.Title != in.Title || out.Key.Type != k.Type || string(out.Key.Blob) != string(k.Blob) ||
		out.Key.Comment != "laptop" || out.Key.Fingerprint != k.Fingerprint || !out.Added.Equal(in.Added) {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
	if got := storedUser(b); got != "alice" {
		t.Errorf("storedUser = %q, want alice", got)
	}
	// Version 1 (JSON) records are still read.
	v1 := `{"v":1,"user":"bob","type":"ssh-ed25519","blob":"` + strings.Fields(k.AuthorizedKey())[1] + `","added":"2026-01-02T03:04:05Z"}`
	if r, err := decodeRecord(k.Fingerprint, []byte(v1)); err != nil || r.User != "bob" || storedUser([]byte(v1)) != "bob" {
		t.Errorf("v1 record: %+v, %v", r, err)
	}
	// Damage of every kind is reported, never a wrong owner.
	for name, data := range map[string][]byte{
		"empty":          nil,
		"future version": append([]byte{9}, b[1:]...),
		"truncated":      b[:len(b)-3],
		"trailing":       append(append([]byte{}, b...), 0),
		"huge length":    {recordVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeRecord(k.Fingerprint, data); err == nil {
			t.Errorf("decodeRecord(%s) succeeded", name)
		}
	}
	if _, err := decodeRecord("SHA256:other", b); err == nil {
		t.Error("a record under another fingerprint decoded")
	}
}

func TestValidUsername(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a", true},
		{"Bob.Smith_2@example-corp", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{"-alice", false},
		{"al ice", false},
		{"al/ice", false},
		{"alice\x00", false},
		{"alice\n", false},
		{"ålice", false},
		{"a:b", false},
	} {
		if err := ValidUsername(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidUsername(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestRecordCheck(t *testing.T) {
	good := Record{User: "alice", Key: keyOf(testkeys.Ed25519(1), "laptop")}
	if err := good.Check(); err != nil {
		t.Fatalf("good record: %v", err)
	}
	with := func(f func(r *Record)) Record {
		r := good
		r.Key.Blob = append([]byte(nil), good.Key.Blob...)
		f(&r)
		return r
	}
	dsa := testkeys.DSABlob()
	cert := testkeys.Cert(1)
	for name, r := range map[string]Record{
		"bad user":         with(func(r *Record) { r.User = "-x" }),
		"bad title":        with(func(r *Record) { r.Title = "a\nb" }),
		"bad comment":      with(func(r *Record) { r.Key.Comment = "a\x1b[2J" }),
		"type not in blob": with(func(r *Record) { r.Key.Type = "ssh-rsa" }),
		"fingerprint":      with(func(r *Record) { r.Key.Fingerprint = Fingerprint([]byte("other")) }),
		"blob changed":     with(func(r *Record) { r.Key.Blob[len(r.Key.Blob)-1] ^= 1 }),
		"empty blob":       with(func(r *Record) { r.Key.Blob = nil; r.Key.Fingerprint = Fingerprint(nil) }),
		"truncated type":   with(func(r *Record) { r.Key.Blob = r.Key.Blob[:6]; r.Key.Fingerprint = Fingerprint(r.Key.Blob) }),
		"dsa":              {User: "alice", Key: Key{Type: "ssh-dss", Blob: dsa, Fingerprint: Fingerprint(dsa)}},
		"certificate":      {User: "alice", Key: keyOf(cert, "")},
		"oversized key data": with(func(r *Record) {
			r.Key.Blob = append(r.Key.Blob, make([]byte, MaxLineLen)...)
			r.Key.Fingerprint = Fingerprint(r.Key.Blob)
		}),
	} {
		if err := r.Check(); err == nil || !strings.HasPrefix(err.Error(), "keys: ") {
			t.Errorf("%s: Check() = %v, want a keys: error", name, err)
		}
	}
}
