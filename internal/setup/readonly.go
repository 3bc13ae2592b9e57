package setup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/shim"
)

// ReadOnlyFile, in the data directory, puts this host in read-only mode
// ('gitserver read-only on'): every push and LFS upload is refused, with
// the file's one line as the message. Its presence is the switch.
const ReadOnlyFile = "read-only"

// MaxReadOnlyMessage bounds the read-only message, in bytes.
const MaxReadOnlyMessage = 200

// ReadOnlyPath is the switch file of this config.
func (a *App) ReadOnlyPath() string { return filepath.Join(a.Cfg.DataDir, ReadOnlyFile) }

// CheckReadOnlyMessage checks a message for the switch file: one line
// of printable text, at most MaxReadOnlyMessage bytes.
func CheckReadOnlyMessage(m string) error {
	if len(m) > MaxReadOnlyMessage {
		return fmt.Errorf("the message is longer than %d bytes", MaxReadOnlyMessage)
	}
	if strings.IndexFunc(m, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return errors.New("the message must be one line of printable text")
	}
	return nil
}

// ReadOnly reads the switch file: whether it is on, and its message.
func (a *App) ReadOnly() (on bool, msg string, err error) {
	f, err := os.Open(a.ReadOnlyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return true, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReadOnlyMessage+2))
	if err != nil {
		return true, "", err
	}
	msg = strings.TrimSuffix(string(b), "\n")
	if CheckReadOnlyMessage(msg) != nil {
		msg = "" // an edited file: the switch holds, its text does not reach clients
	}
	return true, msg, nil
}

// readOnlyFor is the Shim's ReadOnly: this host's switch first, then the
// repository's archived flag.
func (a *App) readOnlyFor(dir string) (string, error) {
	on, msg, err := a.ReadOnly()
	switch {
	case err != nil:
		return "", err
	case on && msg != "":
		return "gitserver: the server is read-only: " + msg, nil
	case on:
		return "gitserver: the server is read-only for now; try again later", nil
	}
	m, err := filedriver.ReadMeta(dir)
	if err != nil {
		return "", err
	}
	if m.Archived {
		return shim.MsgArchived, nil
	}
	return "", nil
}
