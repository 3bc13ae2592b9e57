package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
)

func TestRecordEncoding(t *testing.T) {
	k, err := ParseLine(testkeys.Line(testkeys.Ed25519(1), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
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
