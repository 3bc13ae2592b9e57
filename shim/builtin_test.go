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
		{"perms users/alice/p", Builtin{Name: "perms", Sub: "-l", Repo: "users/alice/p"}},
		{"perms users/alice/p -l", Builtin{Name: "perms", Sub: "-l", Repo: "users/alice/p"}},
		{"perms /users/alice/p.git -lr", Builtin{Name: "perms", Sub: "-lr", Repo: "users/alice/p"}},
		{"perms users/alice/p + READERS bob", Builtin{Name: "perms", Sub: "+", Repo: "users/alice/p", Role: "READERS", Member: "bob"}},
		{"perms users/alice/p - WRITERS bob@example.com", Builtin{Name: "perms", Sub: "-", Repo: "users/alice/p", Role: "WRITERS", Member: "bob@example.com"}},
		{"perms p + READERS @all", Builtin{Name: "perms", Sub: "+", Repo: "p", Role: "READERS", Member: "@all"}},
		{"perms p + release_team.1 @dev-ops", Builtin{Name: "perms", Sub: "+", Repo: "p", Role: "release_team.1", Member: "@dev-ops"}},
		{"perms p + " + strings.Repeat("R", 64) + " @" + strings.Repeat("g", 64), Builtin{Name: "perms", Sub: "+", Repo: "p", Role: strings.Repeat("R", 64), Member: "@" + strings.Repeat("g", 64)}},
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
		// perms: arity, operators, repository, role and member syntax.
		"perms", "perms ", "perms -l", "perms -l p", "perms p -x", "perms p -l -lr", "perms p -L", "perms p --help",
		"perms p +", "perms p + READERS", "perms p + READERS bob carol", "perms p * READERS bob", "perms p = READERS bob",
		"perms p ++ READERS bob", "perms p add READERS bob", "perms p -l READERS bob", "perms p  + READERS bob",
		"perms ../p -l", "perms a/../p -l", "perms -p -l", "perms p.git/hooks -l", "perms /etc/passwd; -l",
		"perms p + READ:ERS bob", "perms p + READERS* bob", "perms p + role:READERS bob", "perms p + READERS b*b",
		"perms p + READERS bob:x", "perms p + READERS @", "perms p + READERS @@g", "perms p + READERS a/b",
		"perms p + READERS -bob", "perms p + -READERS bob", "perms p + READERS 'bob'", "perms p + READERS $(id)",
		"perms p + READERS bob\n", "perms p + READERS b\tb", "perms p + READERS ~bob",
		"perms p + " + strings.Repeat("R", 65) + " bob", "perms p + READERS " + strings.Repeat("b", 65),
		"perms p + READERS @" + strings.Repeat("g", 65), "perms " + strings.Repeat("a", 300) + " -l",
	} {
		if got, err := ParseBuiltin(in); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("ParseBuiltin(%q) = %+v, %v, want ErrInvalidCommand", in, got, err)
		}
	}
}

func TestIsBuiltin(t *testing.T) {
	for in, want := range map[string]bool{
		"help": true, "info x": true, "perms p": true, "permsx": false, "keys": true, "whoami": true, "keys list": true,
		"git-upload-pack 'x'": false, "": false, "helpx": false, "ls": false, "info\tx": false,
	} {
		if got := IsBuiltin(in); got != want {
			t.Errorf("IsBuiltin(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseBuiltin(f *testing.F) {
	for _, s := range []string{"help", "info team/*", "keys remove --user bob " + testFP, "keys add", "info ../x",
		"perms users/alice/p", "perms p -lr", "perms p + READERS bob", "perms p - WRITERS @all", "perms p + READERS -x"} {
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
		for _, w := range []string{b.Role, b.Member, b.Repo} {
			if strings.HasPrefix(w, "-") || strings.Contains(w, "..") || strings.ContainsAny(w, " '\"\\$;`\n\x00*:") {
				t.Fatalf("ParseBuiltin(%q) accepted unsafe argument %q", s, w)
			}
		}
		if (b.Role != "" || b.Member != "") && (b.Name != BuiltinPerms || b.Sub != PermsAdd && b.Sub != PermsRemove) {
			t.Fatalf("ParseBuiltin(%q) = %+v: role outside perms + and -", s, b)
		}
		if b.User != "" && b.Name != BuiltinKeys {
			t.Fatalf("ParseBuiltin(%q) = %+v: --user outside keys", s, b)
		}
	})
}
