package lfs

import (
	"bytes"
	"io"
	"testing"
)

// FuzzSession feeds arbitrary bytes to a session after the version
// exchange: it must never panic, and must end (the input is finite).
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"000eversion 1\n0000",
		"000eversion 1\n0000000abatch\n0001004c" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 5\n0000",
		"000eversion 1\n00000017put-object abc\n000bsize=5\n00010009hello0000",
		"000eversion 1\n0009lock\n000fpath=a b c\n0000000elist-lock\n0000",
		"fff1", "0002", "00", "0004", "000eversion 1\n0000zzzz",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		repo := t.TempDir()
		for _, op := range []string{Upload, Download} {
			s := &Session{Op: op, User: "u", MaxObjectSize: 1 << 16, Objects: NewObjects(repo), Locks: NewLocks(repo)}
			_ = s.Serve(bytes.NewReader(in), io.Discard)
		}
	})
}

// FuzzRequest checks the request reader alone: whatever it accepts has
// a command of printable text and well-formed keys.
func FuzzRequest(f *testing.F) {
	f.Add([]byte("0009lock\n000fpath=a b c\n0000"))
	f.Add([]byte("000abatch\n0001"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, _, err := readRequest(newPktReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		if _, err := textLine([]byte(req.cmd)); err != nil {
			t.Fatalf("accepted command %q: %v", req.cmd, err)
		}
		for k := range req.args {
			if !validKey(k) {
				t.Fatalf("accepted key %q", k)
			}
		}
	})
}
