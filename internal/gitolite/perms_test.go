package gitolite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseCreator(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{"alice\n", "alice", ""},
		{"alice", "alice", ""},
		{"bob@example.com\n", "bob@example.com", ""},
		{"alice\n\n", "", "contains '\\n'"},
		{"alice bob\n", "", "contains ' '"},
		{"-alice\n", "", "starts with '-'"},
		{"\n", "", "username is empty"},
		{"a\x00b\n", "", "contains a NUL byte"},
		{strings.Repeat("a", MaxCreator+1), "", "gl-creator is larger than 256 bytes"},
	} {
		got, err := ParseCreator(strings.NewReader(tt.in))
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseCreator(%q) = %q, %v; want %q, error containing %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParsePerms(t *testing.T) {
	roles := []string{"READERS", "WRITERS"}
	for _, tt := range []struct {
		in    string
		perms string // "line:ROLE:member ..."
		warns string // "line ..."
	}{
		{"READERS bob carol\nWRITERS @devs\n", "1:READERS:bob 1:READERS:carol 2:WRITERS:@devs", ""},
		// gitolite's other spellings: ROLE = members, @ROLE, indented,
		// comments, blank lines, CRLF.
		{"  READERS = bob\r\n@WRITERS\tcarol\n# WRITERS eve\n\n   \nREADERS=dave\n", "1:READERS:bob 2:WRITERS:carol 6:READERS:dave", ""},
		{"READERS @all\n", "1:READERS:@all", ""},
		// Reported, not dropped: an unknown role, CREATOR, bad members.
		{"ADMINS bob\nreaders bob\n", "", "1 2"},
		{"CREATOR bob\n", "", "1"},
		{"READERS bob $x -eve\n", "1:READERS:bob", "1 1"},
		{"READERS bob # a comment\n", "1:READERS:bob 1:READERS:a 1:READERS:comment", "1"},
		{"READERS bob\u0085eve\n", "", "1"},
		{"", "", ""},
	} {
		perms, warns, err := ParsePerms(strings.NewReader(tt.in), roles)
		if err != nil {
			t.Errorf("ParsePerms(%q) = %v", tt.in, err)
			continue
		}
		var gotP, gotW []string
		for _, p := range perms {
			gotP = append(gotP, fmt.Sprintf("%d:%s:%s", p.Line, p.Role, p.Member))
		}
		for _, w := range warns {
			gotW = append(gotW, fmt.Sprint(w.Line))
		}
		if strings.Join(gotP, " ") != tt.perms || strings.Join(gotW, " ") != tt.warns {
			t.Errorf("ParsePerms(%q) = %v, warnings %v; want %q, warnings on lines %q", tt.in, gotP, warns, tt.perms, tt.warns)
		}
	}
}

// TestParsePermsTooLarge: a gl-perms over the limit is an error, never
// the roles of the part that fit.
func TestParsePermsTooLarge(t *testing.T) {
	line := "READERS bob\n"
	fits := strings.Repeat(line, MaxPerms/len(line))
	if perms, _, err := ParsePerms(strings.NewReader(fits), DefaultRoles); err != nil || len(perms) != MaxPerms/len(line) {
		t.Errorf("ParsePerms(%d bytes) = %d perms, %v; want every line", len(fits), len(perms), err)
	}
	big := fits + line
	if perms, _, err := ParsePerms(strings.NewReader(big), DefaultRoles); err == nil || perms != nil || err.Error() != "gitolite: gl-perms is larger than 64 KiB" {
		t.Errorf("ParsePerms(%d bytes) = %d perms, %v; want no perms and the limit", len(big), len(perms), err)
	}
}

func FuzzParsePerms(f *testing.F) {
	f.Add("READERS bob carol\nWRITERS = @devs\n# c\n")
	f.Add("@READERS=x=y\n")
	f.Fuzz(func(t *testing.T, s string) {
		perms, _, err := ParsePerms(strings.NewReader(s), DefaultRoles)
		if err != nil {
			return
		}
		for _, p := range perms {
			// Every member imported is one gitolite would have matched,
			// of a declared role, on a line of the input.
			if !usernamePatt().MatchString(p.Member) || (p.Role != "READERS" && p.Role != "WRITERS") || p.Line < 1 || p.Line > strings.Count(s, "\n")+1 {
				t.Fatalf("ParsePerms(%q) returned %+v", s, p)
			}
			if !reflect.DeepEqual(strings.Fields(p.Member), []string{p.Member}) {
				t.Fatalf("ParsePerms(%q): member %q has space in it", s, p.Member)
			}
		}
	})
}
