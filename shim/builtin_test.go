package shim

import (
	"errors"
	"strings"
	"testing"
)

const testFP = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"

func TestParseBuiltin(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Builtin
	}{
		{"help", Builtin{Name: "help"}},
		{"whoami", Builtin{Name: "whoami"}},
		{"info", Builtin{Name: "info"}},
		{"info team/*", Builtin{Name: "info", Arg: "team/*"}},
		{"info **", Builtin{Name: "info", Arg: "**"}},
		{"keys list", Builtin{Name: "keys", Sub: "list"}},
		{"keys list --user bob", Builtin{Name: "keys", Sub: "list", User: "bob"}},
		{"keys add", Builtin{Name: "keys", Sub: "add"}},
		{"keys add --user bob@example.com", Builtin{Name: "keys", Sub: "add", User: "bob@example.com"}},
		{"keys remove " + testFP, Builtin{Name: "keys", Sub: "remove", Arg: testFP}},
		{"keys remove --user bob " + testFP, Builtin{Name: "keys", Sub: "remove", User: "bob", Arg: testFP}},
		{"set-head team/app main", Builtin{Name: "set-head", Repo: "team/app", Branch: "refs/heads/main"}},
		{"set-head /team/app.git refs/heads/release/1.x", Builtin{Name: "set-head", Repo: "team/app", Branch: "refs/heads/release/1.x"}},
	} {
		got, err := ParseBuiltin(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseBuiltin(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseBuiltinRefuses(t *testing.T) {
	for _, in := range []string{
		"", "help me", "help ", " help", "whoami --user bob", "info  x", "info a b",
		"info -x", "info --help", "info ../x", "info a/../b", "info a;b", "info $(id)",
		"info 'x'", "info a:b", "info ~root", "info a\tb", "info a\nb",
		"keys", "keys delete", "keys list bob", "keys list --user", "keys list --user -x",
		"set-head", "set-head team/app", "set-head team/app main x", "set-head ../x main", "set-head team/app -main",
		"set-head team/app a..b", "set-head team/app main.lock", "set-head team/app.git/hooks main",
		"keys list --user a/b", "keys list --user bob extra", "keys add --user bob --user carol",
		"keys add file", "keys remove", "keys remove x", "keys remove SHA256:short",
		"keys remove " + testFP + " " + testFP, "keys remove --user " + testFP,
		"keys list --user " + strings.Repeat("a", 65),
		"info " + strings.Repeat("a", 300),
		"keys remove --user bob " + testFP + " x",
	} {
		if got, err := ParseBuiltin(in); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("ParseBuiltin(%q) = %+v, %v, want ErrInvalidCommand", in, got, err)
		}
	}
}

func TestIsBuiltin(t *testing.T) {
	for in, want := range map[string]bool{
		"help": true, "info x": true, "keys": true, "whoami": true, "keys list": true,
		"git-upload-pack 'x'": false, "": false, "helpx": false, "ls": false, "info\tx": false,
	} {
		if got := IsBuiltin(in); got != want {
			t.Errorf("IsBuiltin(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseBuiltin(f *testing.F) {
	for _, s := range []string{"help", "info team/*", "keys remove --user bob " + testFP, "keys add", "info ../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBuiltin(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCommand) {
				t.Fatalf("ParseBuiltin(%q): error %v does not wrap ErrInvalidCommand", s, err)
			}
			return
		}
		if !IsBuiltin(s) {
			t.Fatalf("ParseBuiltin(%q) = %+v but IsBuiltin is false", s, b)
		}
		for _, w := range []string{b.Arg, b.User} {
			if strings.HasPrefix(w, "-") || strings.Contains(w, "..") || strings.ContainsAny(w, " '\"\\$;`\n\x00") {
				t.Fatalf("ParseBuiltin(%q) accepted unsafe argument %q", s, w)
			}
		}
		if b.User != "" && b.Name != BuiltinKeys {
			t.Fatalf("ParseBuiltin(%q) = %+v: --user outside keys", s, b)
		}
	})
}
