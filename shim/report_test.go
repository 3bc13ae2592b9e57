package shim

import (
	"errors"
	"os"
	"testing"
)

func TestReportRoundTrip(t *testing.T) {
	path, read, err := newReport()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("report file %s: %v, %v; want mode 0600", path, fi, err)
	}
	if err := WriteReport(path, RefReport{Refs: 3, Refused: 1}); err != nil {
		t.Fatal(err)
	}
	r, err := read()
	if err != nil || r != (RefReport{Refs: 3, Refused: 1}) {
		t.Errorf("read = %+v, %v", r, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("report file left behind: %v", err)
	}
	if err := WriteReport(path, RefReport{}); err == nil {
		t.Error("WriteReport created a file that was not there")
	}
}

func TestReadReportRefusesGarbage(t *testing.T) {
	for _, body := range []string{"", "refs 1 refused 2\n", "refs -1 refused 0\n", "refs x\n", string(make([]byte, maxReport+1))} {
		path, read, err := newReport()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if r, err := read(); err == nil {
			t.Errorf("report %q read as %+v", body, r)
		} else if body == "" && !errors.Is(err, errNoReport) {
			t.Errorf("empty report: %v, want errNoReport", err)
		}
	}
}
