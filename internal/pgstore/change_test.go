package pgstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys"
)

func TestDecodeChange(t *testing.T) {
	r := rec("alice", 1)
	r.Added = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	p, err := encodePayload(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeChange(7, KindKeyAdd, r.Key.Fingerprint, p)
	if err != nil || line(c.Record) != line(r) || c.ID != 7 {
		t.Fatalf("decodeChange = %+v, %v; want %q", c, err, line(r))
	}
	badUser := r
	badUser.User = "-x"
	pBad, _ := encodePayload(badUser)
	for _, tt := range []struct {
		kind, fp string
		data     []byte
		want     string
	}{
		{"key-rename", r.Key.Fingerprint, p, "upgrade"},
		{KindKeyAdd, testKey(2).Fingerprint, p, "does not match"},
		{KindKeyAdd, r.Key.Fingerprint, []byte(`{"user":`), "payload"},
		{KindKeyAdd, r.Key.Fingerprint, pBad, "username"},
	} {
		if _, err := decodeChange(7, tt.kind, tt.fp, tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodeChange(%s, %.20s, %.30s) = %v, want an error containing %q", tt.kind, tt.fp, tt.data, err, tt.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	a := rec("alice", 1)
	stolen := a
	stolen.User = "bob"
	bad := rec("alice", 2)
	bad.Title = "a\x00b"
	got, err := prepare([]keys.Record{a, a, rec("alice", 3)}, now)
	if err != nil || len(got) != 2 || !got[0].Added.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("prepare(a, a, c) = %d records, %v; want 2 added at %v", len(got), err, now.Truncate(time.Microsecond))
	}
	if _, errs := prepare([]keys.Record{a, stolen, bad}, now); len(errs) != 2 {
		t.Errorf("prepare(a, a to bob, bad title) = %v, want 2 errors", errs)
	} else if err := errors.Join(errs...); !strings.Contains(err.Error(), `already belongs to user "alice"`) || !strings.Contains(err.Error(), "record 3") {
		t.Errorf("prepare(a, a to bob, bad title) = %v, want a conflict and record 3's error", err)
	}
}
