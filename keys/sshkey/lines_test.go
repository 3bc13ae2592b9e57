package sshkey

import (
	"errors"
	"fmt"
	"github.com/gitserver/gitserver/keys"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
)

// lineNumbers returns the line numbers of errs.
func lineNumbers(errs []*LineError) []int {
	var ns []int
	for _, e := range errs {
		ns = append(ns, e.Line)
	}
	return ns
}

func TestParseLines(t *testing.T) {
	ed1, ed2 := testkeys.Line(testkeys.Ed25519(1), "one"), testkeys.Line(testkeys.Ed25519(2), "")
	input := strings.Join([]string{
		"# comment",            // 1
		ed1,                    // 2
		"",                     // 3
		"   ",                  // 4
		"restrict " + ed2,      // 5 bad
		"ssh-ed25519 AAAA",     // 6 bad
		"  # indented comment", // 7
		"x" + strings.Repeat(" ", keys.MaxLineLen), // 8 bad: too long
		ed2 + "\r", // 9
	}, "\n")
	ks, errs := ParseLines(strings.NewReader(input))
	if len(ks) != 2 || ks[0].Comment != "one" || ks[1].Fingerprint != ksFingerprint(t, ed2) {
		t.Errorf("ParseLines keys = %+v, want keys of lines 2 and 9", ks)
	}
	if got, want := fmt.Sprint(lineNumbers(errs)), "[5 6 8]"; got != want {
		t.Errorf("ParseLines error lines = %s, want %s (%v)", got, want, errs)
	}
	if len(errs) > 0 {
		if got := errs[0].Error(); !strings.HasPrefix(got, "line 5: keys: key options are not allowed") {
			t.Errorf("errs[0] = %q, want line 5: keys: key options ...", got)
		}
	}
}

func ksFingerprint(t *testing.T, line string) string {
	t.Helper()
	k, err := ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint
}

func TestParseLinesReadError(t *testing.T) {
	r := iotest.TimeoutReader(strings.NewReader(testkeys.Line(testkeys.Ed25519(1), "") + "\n"))
	ks, errs := ParseLines(iotest.OneByteReader(r))
	if len(errs) != 1 || !errors.Is(errs[0], iotest.ErrTimeout) {
		t.Errorf("ParseLines(failing reader) = %d keys, %v; want a timeout error", len(ks), errs)
	}
}

func TestParseImport(t *testing.T) {
	ed := func(i int) string { return testkeys.Line(testkeys.Ed25519(i), "") }
	input := strings.Join([]string{
		"alice " + ed(1) + " Work laptop", // 1
		"# comment",                       // 2
		"bob " + ed(2),                    // 3
		"-bob " + ed(3),                   // 4 bad user
		"carol " + ed(4) + " bell\a",      // 5 bad title
		"dave " + ed(5) + " " + strings.Repeat("t", keys.MaxTitleLen+1), // 6 bad title
		"erin restrict " + ed(6), // 7 options
		"frank",                  // 8 short
		"",                       // 9
		"gina ssh-rsa " + ed(7)[len("ssh-ed25519 "):], // 10 type mismatch
		"hank " + ed(8) + "  spaced   title ",         // 11
	}, "\n")
	var recs []keys.Record
	errs, err := ParseImport(strings.NewReader(input), func(r keys.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ParseImport: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.User+"/"+r.Title)
	}
	if g, w := strings.Join(got, ","), "alice/Work laptop,bob/,hank/spaced   title"; g != w {
		t.Errorf("ParseImport records = %s, want %s", g, w)
	}
	if g, w := fmt.Sprint(lineNumbers(errs)), "[4 5 6 7 8 10]"; g != w {
		t.Errorf("ParseImport error lines = %s, want %s (%v)", g, w, errs)
	}
}

func TestParseImportStops(t *testing.T) {
	stop := errors.New("stop")
	input := "alice " + testkeys.Line(testkeys.Ed25519(1), "") + "\nbob " + testkeys.Line(testkeys.Ed25519(2), "") + "\n"
	n := 0
	_, err := ParseImport(strings.NewReader(input), func(keys.Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("ParseImport with failing fn = %v after %d calls, want stop after 1", err, n)
	}
}
