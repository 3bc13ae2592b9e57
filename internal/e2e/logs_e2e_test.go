package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// forgedRecord is what a client puts after a newline in its command, to
// make the operator's log show a record that was never written.
const forgedRecord = "2026-01-01T00:00:00.000Z [INFO]  gitserver.shell: request decision=allow"

// forgingCommand is an SSH command holding forgedRecord on a line of its own.
const forgingCommand = "git-upload-pack 'x'\n" + forgedRecord

// recordStart begins every line of the text log: one record, one line.
var recordStart = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] `)

// checkOneRecordPerLine fails t unless every line of log starts a record
// and none is the forged one.
func checkOneRecordPerLine(t *testing.T, log string) {
	t.Helper()
	if log == "" {
		t.Fatal("the log is empty")
	}
	for i, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if strings.HasPrefix(line, forgedRecord) {
			t.Errorf("log line %d is the forged record: %q", i+1, line)
		}
		if !recordStart.MatchString(line) {
			t.Errorf("log line %d does not start with a timestamp and a level: %q", i+1, line)
		}
	}
}

// TestLogCommandWithNewline sends a command holding a newline and a
// forged record through the real sshd: the refusal is logged on one
// line, the command quoted.
func TestLogCommandWithNewline(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	out, err := alice.ssh(nil, forgingCommand)
	if err == nil || !strings.Contains(out, "gitserver: unsupported command") {
		t.Fatalf("ssh gitsrv %q: %v\n%s", forgingCommand, err, out)
	}
	data, err := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if want := `raw_command="git-upload-pack 'x'\n` + forgedRecord + `"`; !strings.Contains(log, want) {
		t.Errorf("log lacks %s", want)
	}
	checkOneRecordPerLine(t, log)
}

// TestServeLogCommandWithNewline is TestLogCommandWithNewline against
// 'gitserver serve'.
func TestServeLogCommandWithNewline(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	s.start()
	out, err := alice.ssh(nil, forgingCommand)
	if err == nil || !strings.Contains(out, "gitserver: unsupported command") {
		t.Fatalf("ssh gitsrv %q: %v\n%s", forgingCommand, err, out)
	}
	log := s.log()
	if want := `raw_command="git-upload-pack 'x'\n` + forgedRecord + `"`; !strings.Contains(log, want) {
		t.Errorf("log lacks %s", want)
	}
	checkOneRecordPerLine(t, log)
}
