package filedriver

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// creatorTests are config files and the creator ReadMeta returns for them.
// TestReadCreatorMatchesGit checks every answer against git itself;
// FuzzReadCreator starts from them.
var creatorTests = []struct {
	in      string
	want    string
	wantErr bool
}{
	// Not set.
	{in: ""},
	{in: "\n\n"},
	{in: "[core]\n\tbare = true\n"},
	{in: "creator = alice\n"}, // no section
	{in: "[gitserver \"x\"]\n\tcreator = alice\n"}, // a subsection
	{in: "[gitserver \"\"]\n\tcreator = alice\n"},  // an empty one
	{in: "[gitserver.x]\n\tcreator = alice\n"},     // the old form of one
	{in: "[gitserverx]\n\tcreator = alice\n"},      // another section
	{in: "[gitserver]\n\tcreatorx = alice\n"},      // another key
	{in: "[gitserver]\n#\tcreator = alice\n"},      // a comment
	{in: "[gitserver]\n ; creator = alice\n"},      // another comment
	{in: "[ \"gitserver\"]\n\tcreator = alice\n"},  // an empty section with a subsection
	{in: "[include]\n\tpath = other\n"},            // not followed
	{in: "[gitserver]\n\tcreator = alice\n[gitserver \"x\"]\n\tcreator = bob\n", want: "alice"},

	// Set.
	{in: "[gitserver]\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\ncreator=alice", want: "alice"},
	{in: "[GitServer]\n\tCREATOR = alice\n", want: "alice"},
	{in: "[gitserver] creator = alice\n", want: "alice"},
	{in: "[gitserver]creator=alice\n", want: "alice"},
	{in: "  [gitserver]  \n   creator   =   alice   \n", want: "alice"},
	{in: "[gitserver]\n\tcreator\t=\talice\t\n", want: "alice"},
	{in: "[gitserver]\r\n\tcreator = alice\r\n", want: "alice"},
	{in: "\xef\xbb\xbf[gitserver]\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = alice # who\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = alice;who\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = \"alice\"\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = \"al\"ice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = \"al\"\"ice\" ; c\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = al\\\nice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = alice\\", want: "alice"},
	{in: "[gitserver]\n\tcreator = bob\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = bob\n[core]\n\tbare = true\n[gitserver]\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = alice\n[gitserver \"x\"]\n\tcreator = bob\n", want: "alice"},
	{in: "[gitserver \"a\\\"b\"]\n[gitserver]\n\tcreator = alice\n", want: "alice"},
	{in: "[core]\n\tx = \"a;b#c\\\\\\\"\\t\\n\\b\"\n[gitserver]\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = al\"\"ice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = bob.b-c_d@e\n", want: "bob.b-c_d@e"},
	{in: "[a-b.c]\n[gitserver]\ncreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator = \xc3\xa9\n\tcreator = alice\n", want: "alice"},
	{in: "[gitserver]\n\tcreator\n\tcreator = alice\n", want: "alice"},

	// Set, to something that is not a username.
	{in: "[gitserver]\n\tcreator\n", wantErr: true}, // a boolean
	{in: "[gitserver]\n\tcreator =\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = \"\"\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al ice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = \"al\tice\"\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\\tice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\\nice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\\bice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\rice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\vice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = al\fice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = \xc3\xa9\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = -alice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = alice\n\tcreator\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = " + strings.Repeat("a", 65) + "\n", wantErr: true},

	// Not a config file git accepts.
	{in: "[gitserver]\n\tcreator = al\\ice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = \"alice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = \"alice\\\n\"\n", want: "alice"},
	{in: "[gitserver\n\tcreator = alice\n", wantErr: true},
	{in: "[gitserver", wantErr: true},
	{in: "[]\n", wantErr: true},
	{in: "[gitserver ]\n", wantErr: true},
	{in: "[gitserver \"x\n\"]\n", wantErr: true},
	{in: "[gitserver \"x\"\n", wantErr: true},
	{in: "[gitserver \"x\" ]\n", wantErr: true},
	{in: "[git_server]\n", wantErr: true},
	{in: "[gitserver]\n\tcreator alice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator # c\n", wantErr: true},
	{in: "[gitserver]\n\tcreator_x = alice\n", wantErr: true},
	{in: "[gitserver]\n\t1creator = alice\n", wantErr: true},
	{in: "[gitserver]\n\t-creator = alice\n", wantErr: true},
	{in: "[gitserver]\n\t\vcreator = alice\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = alice\n[core]\n\t= x\n", wantErr: true},
	{in: "[gitserver]\n\tcreator = alice\n[core]\n\t\xc3\xa9 = x\n", wantErr: true},
	{in: "\xef[gitserver]\n\tcreator = alice\n", wantErr: true},
	{in: "\xef\xbb[gitserver]\n\tcreator = alice\n", wantErr: true},
	{in: "\xef\xbb\xbf\xef\xbb\xbf[gitserver]\n", wantErr: true},
}

// gitCreator is what git says about the config file in: the value and
// whether git found one, or an error when git rejects the file.
func gitCreator(t *testing.T, git, path string) (value string, found bool, err error) {
	t.Helper()
	cmd := exec.Command(git, "config", "--file", path, "--get", CreatorKey)
	cmd.Env = []string{"PATH=" + shim.SafePath, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return strings.TrimSuffix(string(out), "\n"), true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0:
		return "", false, nil
	case errors.As(err, &ee):
		return "", false, errors.New(strings.TrimSpace(stderr.String()))
	}
	t.Fatalf("git config: %v", err)
	return
}

// TestReadCreatorMatchesGit checks each of creatorTests against git: the
// test's answer must be git's, and ReadMeta's. Where git prints a
// value that is not a username, or nothing for a key without a value,
// ReadMeta's answer is an error.
func TestReadCreatorMatchesGit(t *testing.T) {
	git, err := shim.LookGit()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	for _, tt := range creatorTests {
		if err := os.WriteFile(path, []byte(tt.in), 0o644); err != nil {
			t.Fatal(err)
		}
		v, found, gitErr := gitCreator(t, git, path)
		switch {
		case gitErr != nil && !tt.wantErr:
			t.Errorf("git rejects %q (%v); the test wants %q", tt.in, gitErr, tt.want)
		case gitErr == nil && found && keys.ValidUsername(v) != nil && !tt.wantErr:
			t.Errorf("git reads %q from %q, not a username; the test wants %q", v, tt.in, tt.want)
		case gitErr == nil && (!found || keys.ValidUsername(v) == nil) && (tt.wantErr || v != tt.want):
			t.Errorf("git reads %q (found %v) from %q; the test wants %q, error %v", v, found, tt.in, tt.want, tt.wantErr)
		}
		m, err := ReadMeta(dir)
		got := m.Creator
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ReadMeta(%q).Creator = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestReadCreatorStricter covers what ReadMeta refuses although git
// reads it, and the files it does not read at all.
func TestReadCreatorStricter(t *testing.T) {
	for _, tt := range []struct {
		name string
		data string // written to config, unless empty
	}{
		// Git prints the value up to the NUL, "al", which is a
		// username; ReadCreator refuses the value.
		{"NUL in the value", "[gitserver]\n\tcreator = al\x00ice\n"},
		{"NUL in a quoted value", "[gitserver]\n\tcreator = \"al\x00ice\"\n"},
		{"larger than 1 MiB", "[gitserver]\n\tcreator = alice\n#" + strings.Repeat("x", maxConfigSize)},
		{"a directory", ""},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "config")
		var err error
		if tt.data == "" {
			err = os.Mkdir(path, 0o755)
		} else {
			err = os.WriteFile(path, []byte(tt.data), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if m, err := ReadMeta(dir); m.Creator != "" || err == nil {
			t.Errorf("ReadMeta of %s = %q, %v; want an error", tt.name, m.Creator, err)
		}
	}
	if m, err := ReadMeta(t.TempDir()); m.Creator != "" || err != nil {
		t.Errorf("ReadMeta without a config file = %q, %v; want \"\", nil", m.Creator, err)
	}
}

// TestReadCreatorLimit checks that a file of exactly the limit is read
// and the error for a bigger one names the limit.
func TestReadCreatorLimit(t *testing.T) {
	dir := t.TempDir()
	head := "[gitserver]\n\tcreator = alice\n#"
	data := head + strings.Repeat("x", maxConfigSize-len(head))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadMeta(dir); m.Creator != "alice" || err != nil {
		t.Errorf("ReadMeta of %d bytes = %q, %v; want alice", len(data), m.Creator, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(data+"x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("ReadMeta of %d bytes = %v; want an error naming the limit", len(data)+1, err)
	}
}

// FuzzReadCreator checks that the reader never panics, that a value it
// returns is a username, that on the seeds (creatorTests, which
// TestReadCreatorMatchesGit checks against git) it answers as git does,
// and that a file it accepts followed by a [gitserver] section setting
// the creator reads as that creator, last value winning.
func FuzzReadCreator(f *testing.F) {
	want := map[string]int{}
	for i, tt := range creatorTests {
		f.Add([]byte(tt.in))
		want[tt.in] = i
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := metaFrom(data)
		got := m.Creator
		if err == nil && got != "" && keys.ValidUsername(got) != nil {
			t.Fatalf("metaFrom(%q).Creator = %q, not a username", data, got)
		}
		if i, ok := want[string(data)]; ok {
			tt := creatorTests[i]
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("metaFrom(%q).Creator = %q, %v; want %q, error %v", data, got, err, tt.want, tt.wantErr)
			}
		}
		if err != nil {
			return
		}
		more := append(bytes.Clone(data), "\n\n[gitserver]\n\tcreator = zed\n"...)
		if m, err := metaFrom(more); m.Creator != "zed" || err != nil {
			t.Fatalf("metaFrom(%q).Creator = %q, %v; want zed", more, m.Creator, err)
		}
	})
}

// TestArchivedMatchesGit reads gitserver.archived as git config --bool
// does, and SetArchived turns it on and off.
func TestArchivedMatchesGit(t *testing.T) {
	git, err := shim.LookGit()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"[gitserver]\n\tarchived = true\n", true},
		{"[gitserver]\n\tarchived\n", true},
		{"[gitserver]\n\tArchived = Yes\n", true},
		{"[gitserver]\n\tarchived = 1\n", true},
		{"[gitserver]\n\tarchived = true\n\tarchived = false\n", false},
		{"[gitserver]\n\tarchived = off\n", false},
		{"[gitserver \"x\"]\n\tarchived = true\n", false},
	} {
		os.WriteFile(path, []byte(tt.in), 0o644)
		out, _ := exec.Command(git, "config", "--file", path, "--bool", "--get", ArchivedKey).Output()
		if gitSays := strings.TrimSpace(string(out)) == "true"; gitSays != tt.want {
			t.Errorf("git reads %q as archived=%v; the test wants %v", tt.in, gitSays, tt.want)
		}
		if m, err := ReadMeta(dir); err != nil || m.Archived != tt.want {
			t.Errorf("ReadMeta(%q).Archived = %v, %v; want %v", tt.in, m.Archived, err, tt.want)
		}
	}
	os.WriteFile(path, []byte("[gitserver]\n\tarchived = maybe\n"), 0o644)
	if _, err := ReadMeta(dir); err == nil {
		t.Error("ReadMeta accepted archived = maybe")
	}
	os.WriteFile(path, []byte("[core]\n\tbare = true\n"), 0o644)
	ctx := context.Background()
	for _, on := range []bool{true, false, false} {
		if err := SetArchived(ctx, git, dir, on); err != nil {
			t.Fatalf("SetArchived(%v): %v", on, err)
		}
		if m, _ := ReadMeta(dir); m.Archived != on {
			t.Fatalf("after SetArchived(%v) ReadMeta says %v", on, m.Archived)
		}
	}
}
