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
		{`git-upload-pack '/x.git'`, Command{Verb: UploadPack, Path: "/x.git"}},
		{`git-upload-pack 'owner/repo.git'`, Command{Verb: UploadPack, Path: "owner/repo.git"}},
		{`git-receive-pack '/owner/repo.git'`, Command{Verb: ReceivePack, Path: "/owner/repo.git"}},
		{`git-upload-archive 'x.git'`, Command{Verb: UploadArchive, Path: "x.git"}},
		{`git upload-pack '/x.git'`, Command{Verb: UploadPack, Path: "/x.git"}},
		{`git receive-pack 'x'`, Command{Verb: ReceivePack, Path: "x"}},
		{`git upload-archive '/a/b.git'`, Command{Verb: UploadArchive, Path: "/a/b.git"}},
		{`git-upload-pack owner/repo.git`, Command{Verb: UploadPack, Path: "owner/repo.git"}},
		{`git-upload-pack u@x/r+1_a~b:c.git`, Command{Verb: UploadPack, Path: "u@x/r+1_a~b:c.git"}},
		// git's own quoting of ' and !; the parser keeps them, CleanName refuses them.
		{`git-upload-pack 'a'\''b'`, Command{Verb: UploadPack, Path: "a'b"}},
		{`git-upload-pack 'a'\!'b'`, Command{Verb: UploadPack, Path: "a!b"}},
		{`git-upload-pack 'a'\'''`, Command{Verb: UploadPack, Path: "a'"}},
		{`git-upload-pack ''\''a'`, Command{Verb: UploadPack, Path: "'a"}},
		// Inside quotes anything printable is literal: no shell reads it.
		{`git-upload-pack 'a b;$(id)'`, Command{Verb: UploadPack, Path: "a b;$(id)"}},
		{`git-upload-pack 'x-y'`, Command{Verb: UploadPack, Path: "x-y"}},
		{`git-upload-pack 'é.git'`, Command{Verb: UploadPack, Path: "é.git"}},
		// Git LFS over SSH: git-lfs sends the path bare.
		{`git-lfs-transfer owner/repo.git upload`, Command{LFSTransfer, "owner/repo.git", LFSUpload}},
		{`git-lfs-transfer /owner/repo.git download`, Command{LFSTransfer, "/owner/repo.git", LFSDownload}},
		{`git-lfs-transfer 'a b.git' download`, Command{LFSTransfer, "a b.git", LFSDownload}},
		{`git-lfs-authenticate owner/repo.git upload`, Command{LFSAuthenticate, "owner/repo.git", "upload"}},
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
		// Git LFS: exactly a path and upload or download.
		"git-lfs-transfer", "git-lfs-transfer x", "git-lfs-transfer x upload ", "git-lfs-transfer x  upload",
		"git-lfs-transfer x UPLOAD", "git-lfs-transfer x delete", "git-lfs-transfer x upload download",
		"git-lfs-transfer --help upload", "git-lfs-transfer x;id upload", "git-lfs-transfer 'x upload",
		"git-lfs-transfer x upload;id", "git-lfs-transfer x 'upload'", "git-lfs-transfer ' upload",
		"git-lfs-transfer x\tupload", "git-lfs-transfer  upload", "git-lfs-authenticate x", "git-lfs-authenticate x UP",
		"git lfs-transfer x", "git-lfs-transfer-x x upload",
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
		{Command{Verb: UploadPack, Path: "/x.git"}, `git-upload-pack '/x.git'`},
		{Command{Verb: ReceivePack, Path: "a'b!c"}, `git-receive-pack 'a'\''b'\!'c'`},
		{Command{LFSTransfer, "a/b.git", LFSUpload}, `git-lfs-transfer 'a/b.git' upload`},
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
		"git-lfs-transfer a/b.git upload", "git-lfs-transfer 'a b' download", "git-lfs-authenticate x download",
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
		switch {
		case c.Verb == UploadPack || c.Verb == ReceivePack || c.Verb == UploadArchive:
			if c.Op != "" {
				t.Fatalf("ParseCommand(%q) op %q for a git command", s, c.Op)
			}
		case c.Verb == LFSTransfer && (c.Op == LFSUpload || c.Op == LFSDownload):
		case c.Verb == LFSAuthenticate && c.Op != "" && strings.Trim(c.Op, "abcdefghijklmnopqrstuvwxyz") == "":
		default:
			t.Fatalf("ParseCommand(%q) verb %q op %q", s, c.Verb, c.Op)
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
