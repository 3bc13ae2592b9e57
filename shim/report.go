package shim

import (
	"errors"
	"fmt"
	"os"

	"github.com/gitserver/gitserver/internal/bounded"
)

// EnvReport names the file a push's pre-receive check reports its
// decisions to, so that the request line of the push says what happened
// to its refs. Serve creates the file (mode 0600, in the temporary
// directory) for every push and sets the variable in git's environment,
// which git passes on to its hooks; nothing of the client's environment
// can set it.
const EnvReport = "GITSERVER_REPORT"

// RefReport is what the pre-receive check decided about one push.
type RefReport struct {
	Refs    int // ref updates in the push
	Refused int // of those, refused; any refusal refuses the whole push
}

// maxReport bounds the report file: one short line.
const maxReport = 128

// WriteReport writes r to the report file at path, which must exist
// already (Serve made it): the hook never creates a file.
func WriteReport(path string, r RefReport) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "refs %d refused %d\n", r.Refs, r.Refused)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errNoReport means the check wrote no report: a driver without per-ref
// rules, or a push git refused before its hooks ran.
var errNoReport = errors.New("shim: no ref report")

// readReport reads the report file at path.
func readReport(path string) (RefReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return RefReport{}, err
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxReport, "shim: ref report")
	switch {
	case err != nil:
		return RefReport{}, err
	case len(data) == 0:
		return RefReport{}, errNoReport
	}
	var r RefReport
	if _, err := fmt.Sscanf(string(data), "refs %d refused %d\n", &r.Refs, &r.Refused); err != nil || r.Refs < 0 || r.Refused < 0 || r.Refused > r.Refs {
		return RefReport{}, fmt.Errorf("shim: bad ref report %q", data)
	}
	return r, nil
}

// newReport makes an empty report file for one push, and returns its
// path and a function that reads it and removes it.
func newReport() (path string, read func() (RefReport, error), err error) {
	f, err := os.CreateTemp("", "gitserver-push-*.report")
	if err != nil {
		return "", nil, err
	}
	path = f.Name()
	f.Close()
	return path, func() (RefReport, error) {
		defer os.Remove(path)
		return readReport(path)
	}, nil
}
