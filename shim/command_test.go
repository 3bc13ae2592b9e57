package shim

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestParseCommandValid(t *testing.T) {
	tests := []struct {
		in   string
		want Command
	}{
		{`git-upload-pack '/x.git'`, Command{UploadPack, "/x.git"}},
		{`git-upload-pack 'owner/repo.git'`, Command{UploadPack, "owner/repo.git"}},
		{`git-receive-pack '/owner/repo.git'`, Command{ReceivePack, "/owner/repo.git"}},
		{`git-upload-archive 'x.git'`, Command{UploadArchive, "x.git"}},
		{`git upload-pack '/x.git'`, Command{UploadPack, "/x.git"}},
		{`git receive-pack 'x'`, Command{ReceivePack, "x"}},
		{`git upload-archive '/a/b.git'`, Command{UploadArchive, "/a/b.git"}},
		{`git-upload-pack owner/repo.git`, Command{UploadPack, "owner/repo.git"}},
		{`git-upload-pack u@x/r+1_a~b:c.git`, Command{UploadPack, "u@x/r+1_a~b:c.git"}},
		// git's own quoting of ' and !; the parser keeps them, CleanName refuses them.
		{`git-upload-pack 'a'\''b'`, Command{UploadPack, "a'b"}},
		{`git-upload-pack 'a'\!'b'`, Command{UploadPack, "a!b"}},
		{`git-upload-pack 'a'\'''`, Command{UploadPack, "a'"}},
		{`git-upload-pack ''\''a'`, Command{UploadPack, "'a"}},
		// Inside quotes anything printable is literal: no shell reads it.
		{`git-upload-pack 'a b;$(id)'`, Command{UploadPack, "a b;$(id)"}},
		{`git-upload-pack 'x-y'`, Command{UploadPack, "x-y"}},
		{`git-upload-pack 'é.git'`, Command{UploadPack, "é.git"}},
	}
	for _, tt := range tests {
		got, err := ParseCommand(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCommandNoCommand(t *testing.T) {
	got, err := ParseCommand("")
	if !errors.Is(err, ErrNoCommand) || got != (Command{}) {
		t.Errorf("ParseCommand(%q) = %+v, %v; want ErrNoCommand", "", got, err)
	}
	if errors.Is(err, ErrInvalidCommand) {
		t.Errorf("ParseCommand(%q) error %v is also ErrInvalidCommand", "", err)
	}
}

func TestParseCommandInvalid(t *testing.T) {
	tests := []string{
		// Other commands and near misses.
		" ", "\t", "ls", "ls -la", "sh -c id", "git", "git-upload-pack", "git upload-pack",
		"git-upload-pack2 'x'", "gitupload-pack 'x'", "git-upload 'x'", "git upload-pack2 'x'",
		"xyz git-upload-pack 'x'", "git -c core.sshCommand=id upload-pack 'x'",
		"GIT-UPLOAD-PACK 'x'", "git-upload-pack-x 'x'", "git-shell -c 'x'", "scp -t x",
		"git-upload-pack\x00 'x'",
		// Spacing: exactly one ASCII space.
		"git-upload-pack  'x'", "git-upload-pack\t'x'", " git-upload-pack 'x'",
		"git-upload-pack 'x' ", "git  upload-pack 'x'", "git\tupload-pack 'x'",
		"git-upload-pack ", "git upload-pack ",
		"git-upload-pack\u00a0'x'", "git-upload-pack\u3000'x'",
		// Option injection.
		"git-upload-pack '--upload-pack=touch /tmp/pwn'", "git-upload-pack --help",
		"git-upload-pack '--help'", "git-upload-pack -x", "git-upload-pack '-'",
		`git-upload-pack '-'\''x'`, `git-upload-pack '-'\!'x'`,
		"git-receive-pack '--receive-pack=id'",
		// Shell injection.
		"git-upload-pack 'a'; touch /tmp/x", "git-upload-pack 'a';id", "git-upload-pack a;id",
		"git-upload-pack $(id)", "git-upload-pack `id`", "git-upload-pack 'a'`id`",
		"git-upload-pack a|id", "git-upload-pack a&id", "git-upload-pack a&&id",
		"git-upload-pack a>x", "git-upload-pack a<x", "git-upload-pack a*", "git-upload-pack a?",
		"git-upload-pack a[b]", "git-upload-pack {a,b}", "git-upload-pack (a)",
		`git-upload-pack "a"`, `git-upload-pack a\b`, `git-upload-pack 'a'\x`,
		"git-upload-pack $HOME", "git-upload-pack a#b", "git-upload-pack a=b", "git-upload-pack a%b",
		"git-upload-pack a!b", "git-upload-pack a,b", "git-upload-pack 'a'!", "git-upload-pack é",
		// Arguments: exactly one, quoted or bare.
		"git-upload-pack 'a' 'b'", "git-upload-pack a b", "git-upload-pack 'a' b",
		"git-upload-pack ''", "git-upload-pack ''''", "git-upload-pack 'a''b'",
		"git-upload-pack 'a", "git-upload-pack a'", "git-upload-pack '", "git-upload-pack 'a'\\",
		`git-upload-pack 'a'\'`, `git-upload-pack 'a'\''`, `git-upload-pack 'a'\"'b'`,
		`git-upload-pack 'a'\\'b'`, "git-upload-pack 'a'b", "git-upload-pack a'b'",
		// Control characters and encoding, inside quotes too.
		"git-upload-pack 'a\x00b'", "git-upload-pack 'a\nb'", "git-upload-pack 'a'\ntouch /tmp/x",
		"git-upload-pack 'a\rb'", "git-upload-pack 'a\tb'", "git-upload-pack 'a\x7fb'",
		"git-upload-pack 'a\x1b[31mb'", "git-upload-pack 'a\u0085b'", "git-upload-pack 'a\u202eb'",
		"git-upload-pack 'a\u2028b'", "git-upload-pack 'a\xffb'", "git-upload-pack '\xc3'",
		"\n", "git-upload-pack 'x'\n", "git-upload-pack 'x'\x00",
		// Length.
		"git-upload-pack '" + strings.Repeat("a", 2000) + "'",
		"git-upload-pack " + strings.Repeat("a", MaxCommandLen),
	}
	for _, in := range tests {
		got, err := ParseCommand(in)
		if !errors.Is(err, ErrInvalidCommand) || got != (Command{}) {
			t.Errorf("ParseCommand(%q) = %+v, %v; want ErrInvalidCommand", in, got, err)
		}
	}
}

func TestParseCommandMaxLen(t *testing.T) {
	prefix := UploadPack + " "
	in := prefix + strings.Repeat("a", MaxCommandLen-len(prefix))
	if _, err := ParseCommand(in); err != nil {
		t.Errorf("ParseCommand(%d bytes) = %v; want nil", len(in), err)
	}
	if _, err := ParseCommand(in + "a"); !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("ParseCommand(%d bytes) = %v; want ErrInvalidCommand", len(in)+1, err)
	}
}

// TestParseCommandErrorText checks that errors are short, quote what they
// repeat, and never carry the raw input.
func TestParseCommandErrorText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ls", `shim: invalid command: unsupported command "ls"`},
		{"git ls x", `shim: invalid command: unsupported command "git ls"`},
		{"git-upload-pack", "shim: invalid command: git-upload-pack needs a repository argument"},
		{"git-upload-pack --help", `shim: invalid command: repository argument starts with "-"`},
		{"git-upload-pack 'a' 'b'", "shim: invalid command: more than one argument"},
		{"git-upload-pack a;id", `shim: invalid command: unquoted ';' at byte 1 of argument`},
		{"git-upload-pack 'a", "shim: invalid command: unbalanced quote in argument"},
		{"git-upload-pack 'a\nb'", "shim: invalid command: control character at byte 18"},
		{strings.Repeat("x", 200) + " y", `shim: invalid command: unsupported command "` + strings.Repeat("x", 64) + `"...`},
		{"\x1b]0;pwned\x07 x", "shim: invalid command: control character at byte 0"},
	}
	for _, tt := range tests {
		_, err := ParseCommand(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseCommand(%q) error = %v; want %s", tt.in, err, tt.want)
		}
	}
}

func TestCommandString(t *testing.T) {
	tests := []struct {
		c    Command
		want string
	}{
		{Command{UploadPack, "/x.git"}, `git-upload-pack '/x.git'`},
		{Command{ReceivePack, "a'b!c"}, `git-receive-pack 'a'\''b'\!'c'`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %s, want %s", tt.c, got, tt.want)
		}
		if got, err := ParseCommand(tt.want); err != nil || got != tt.c {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, nil", tt.want, got, err, tt.c)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"", "git-upload-pack '/x.git'", "git upload-pack 'x'", "git-receive-pack 'a/b.git'",
		"git-upload-archive 'x.git'", `git-upload-pack 'a'\''b'`, `git-upload-pack 'a'\!'b'`,
		"git-upload-pack owner/repo.git", "git-upload-pack '--upload-pack=touch /tmp/pwn'",
		"git-upload-pack --help", "git-upload-pack 'a'; touch /tmp/x", "git-upload-pack $(id)",
		"git-upload-pack `id`", "git-upload-pack 'a' 'b'", "git-upload-pack 'a\x00b'",
		"git-upload-pack 'a\nb'", "git-upload-pack ''", "xyz git-upload-pack x", "git-upload-pack2 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommand(s)
		if err != nil {
			if c != (Command{}) {
				t.Fatalf("ParseCommand(%q) = %+v, %v; want zero Command with an error", s, c, err)
			}
			if !errors.Is(err, ErrNoCommand) && !errors.Is(err, ErrInvalidCommand) {
				t.Fatalf("ParseCommand(%q) error %v wraps neither sentinel", s, err)
			}
			if msg := err.Error(); len(msg) > 200 || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
				t.Fatalf("ParseCommand(%q) error text unsafe: %q", s, msg)
			}
			return
		}
		switch c.Verb {
		case UploadPack, ReceivePack, UploadArchive:
		default:
			t.Fatalf("ParseCommand(%q) verb %q", s, c.Verb)
		}
		if c.Path == "" || c.Path[0] == '-' || strings.IndexFunc(c.Path, unicode.IsControl) >= 0 {
			t.Fatalf("ParseCommand(%q) path %q", s, c.Path)
		}
		q := c.String()
		if len(q) > MaxCommandLen {
			return // quoting "!" grows the text; the bound applies to it too
		}
		c2, err := ParseCommand(q)
		if err != nil || c2 != c {
			t.Fatalf("ParseCommand(%q) = %+v; ParseCommand(%q) = %+v, %v", s, c, q, c2, err)
		}
	})
}
