package shim

import (
	"errors"
	"strings"

	"github.com/gitserver/gitserver/policy"
)

// The built-in commands: what a client can run besides git, e.g.
// "ssh git@host info". IsBuiltin recognises them by their first word.
const (
	BuiltinHelp   = "help"   // list the commands
	BuiltinInfo   = "info"   // repositories the user can reach
	BuiltinWhoami = "whoami" // user name and key fingerprint
	BuiltinKeys   = "keys"   // list, add or remove one's own keys
	// BuiltinSetHead points a repository's HEAD at a branch (admins).
	BuiltinSetHead = "set-head"
	// BuiltinPerms lists or changes a repository's role members, as
	// gitolite's perms does (its creator, or admins).
	BuiltinPerms = "perms"
)

// The subcommands of BuiltinKeys.
const (
	KeysList   = "list"
	KeysAdd    = "add"
	KeysRemove = "remove"
)

// The subcommands of BuiltinPerms, as the client writes them after the
// repository.
const (
	PermsList   = "-l"  // list the role members (also with no subcommand)
	PermsRoles  = "-lr" // list the roles the policy declares
	PermsAdd    = "+"   // + ROLE MEMBER
	PermsRemove = "-"   // - ROLE MEMBER
)

// Bounds on a built-in command line.
const (
	maxBuiltinWords = 5   // "keys remove --user NAME FINGERPRINT", "perms REPO + ROLE MEMBER"
	maxBuiltinWord  = 256 // bytes in one word
	maxBuiltinUser  = 64  // as keys.ValidUsername
)

// Builtin is a parsed built-in command.
type Builtin struct {
	Name string // one of the Builtin constants
	// Sub is KeysList, KeysAdd or KeysRemove for BuiltinKeys, and
	// PermsList, PermsRoles, PermsAdd or PermsRemove for BuiltinPerms.
	Sub string
	// Arg is info's pattern ("" for every repository) or keys remove's
	// fingerprint.
	Arg string
	// User is the NAME of "keys ... --user NAME": another user's keys,
	// which needs admin. "" means the caller's own keys.
	User string
	// Repo and Branch are set-head's arguments: a clean repository name
	// and a full branch ref, "refs/heads/NAME". Repo is also perms'
	// repository.
	Repo, Branch string
	// Role and Member are the arguments of "perms REPO +|- ROLE MEMBER":
	// a role name and a user name, "@group" or "@all", as
	// policy.CheckRoleMember accepts them. Whether the policy declares
	// the role is for the command to decide.
	Role, Member string
}

// String returns the command as a short name for logs, e.g. "keys add".
func (b Builtin) String() string {
	if b.Sub == "" {
		return b.Name
	}
	return b.Name + " " + b.Sub
}

// ErrBuiltin is returned by Shim.Plan, with a Plan whose Builtin is set,
// for a built-in command: the caller runs it (see internal/builtin)
// rather than git. A caller that does not know it treats it as an error
// and refuses, which fails closed.
var ErrBuiltin = errors.New("shim: built-in command")

// IsBuiltin reports whether s asks for a built-in command: its first
// word is one of the built-in names. ParseBuiltin then decides whether
// the rest is valid.
func IsBuiltin(s string) bool {
	first, _, _ := strings.Cut(s, " ")
	switch first {
	case BuiltinHelp, BuiltinInfo, BuiltinWhoami, BuiltinKeys, BuiltinSetHead, BuiltinPerms:
		return true
	}
	return false
}

// ParseBuiltin parses a built-in command line, strictly: words separated
// by single spaces, no quoting, no shell, and exactly this grammar:
//
//	help
//	whoami
//	info [PATTERN]
//	keys list [--user NAME]
//	keys add [--user NAME]
//	keys remove [--user NAME] FINGERPRINT
//	set-head REPO BRANCH
//	perms REPO [-l | -lr]
//	perms REPO + ROLE MEMBER
//	perms REPO - ROLE MEMBER
//
// PATTERN is a repository glob (letters, digits, -_./+@ and *), not
// starting with "-" and without ".."; NAME a user name; FINGERPRINT a
// "SHA256:" fingerprint; REPO a name CleanName takes; ROLE a role name
// and MEMBER a user name, "@group" or "@all" (policy.CheckRoleMember),
// each at most 64 bytes (65 for "@group") and not starting with "-".
// Errors wrap ErrInvalidCommand and are safe to show to the client.
func ParseBuiltin(s string) (Builtin, error) {
	if err := checkRaw(s); err != nil {
		return Builtin{}, err
	}
	words := strings.Split(s, " ")
	if len(words) > maxBuiltinWords {
		return Builtin{}, invalidCommand("too many arguments")
	}
	for i, w := range words {
		if err := checkWord(w, i); err != nil {
			return Builtin{}, err
		}
	}
	b := Builtin{Name: words[0]}
	args := words[1:]
	switch b.Name {
	case BuiltinHelp, BuiltinWhoami:
		if len(args) > 0 {
			return Builtin{}, invalidCommand("%s takes no arguments", b.Name)
		}
		return b, nil
	case BuiltinInfo:
		return parseInfo(b, args)
	case BuiltinKeys:
		return parseKeys(b, args)
	case BuiltinSetHead:
		return parseSetHead(b, args)
	case BuiltinPerms:
		return parsePerms(b, args)
	}
	return Builtin{}, invalidCommand("unsupported command %s", echo(b.Name))
}

// checkWord checks one word (number i) of a built-in command line.
func checkWord(w string, i int) error {
	switch {
	case w == "":
		return invalidCommand("empty argument (separate words by one space)")
	case len(w) > maxBuiltinWord:
		return invalidCommand("argument %d longer than %d bytes", i, maxBuiltinWord)
	case strings.Contains(w, ".."):
		return invalidCommand(`".." in argument %d`, i)
	}
	for j := 0; j < len(w); j++ {
		if c := w[j]; !bareSafe(c) && c != '*' || c == '~' {
			return invalidCommand("%q at byte %d of argument %d", c, j, i)
		}
	}
	return nil
}

// parseInfo parses "info [PATTERN]".
func parseInfo(b Builtin, args []string) (Builtin, error) {
	switch {
	case len(args) > 1:
		return Builtin{}, invalidCommand("info takes at most one pattern")
	case len(args) == 1 && args[0][0] == '-':
		return Builtin{}, invalidCommand(`info takes no options; a pattern may not start with "-"`)
	case len(args) == 1 && strings.Contains(args[0], ":"):
		return Builtin{}, invalidCommand(`":" in pattern`)
	case len(args) == 1:
		b.Arg = args[0]
	}
	return b, nil
}

// parseKeys parses "keys SUB [--user NAME] [FINGERPRINT]".
func parseKeys(b Builtin, args []string) (Builtin, error) {
	if len(args) == 0 {
		return Builtin{}, invalidCommand("keys needs list, add or remove")
	}
	b.Sub, args = args[0], args[1:]
	switch b.Sub {
	case KeysList, KeysAdd, KeysRemove:
	default:
		return Builtin{}, invalidCommand("unknown keys subcommand %s (want list, add or remove)", echo(b.Sub))
	}
	if len(args) >= 1 && args[0] == "--user" {
		if len(args) < 2 || !validBuiltinUser(args[1]) {
			return Builtin{}, invalidCommand("--user needs a user name")
		}
		b.User, args = args[1], args[2:]
	}
	if b.Sub != KeysRemove {
		if len(args) > 0 {
			return Builtin{}, invalidCommand("keys %s takes only --user NAME", b.Sub)
		}
		return b, nil
	}
	if len(args) != 1 || !validFingerprint(args[0]) {
		return Builtin{}, invalidCommand("keys remove needs one fingerprint (SHA256:...)")
	}
	b.Arg = args[0]
	return b, nil
}

// parseSetHead parses "set-head REPO BRANCH": a repository name as
// CleanName takes it, and a branch name (with or without refs/heads/).
func parseSetHead(b Builtin, args []string) (Builtin, error) {
	if len(args) != 2 {
		return Builtin{}, invalidCommand("set-head needs a repository and a branch")
	}
	name, err := CleanName(args[0])
	if err != nil {
		return Builtin{}, invalidCommand("set-head: %v", err)
	}
	ref, ok := BranchRef(args[1])
	if !ok {
		return Builtin{}, invalidCommand("set-head: %s is not a branch name", echo(args[1]))
	}
	b.Repo, b.Branch = name, ref
	return b, nil
}

// parsePerms parses "perms REPO [-l | -lr | + ROLE MEMBER | - ROLE
// MEMBER]", gitolite's perms syntax without its batch mode.
func parsePerms(b Builtin, args []string) (Builtin, error) {
	if len(args) == 0 {
		return Builtin{}, invalidCommand("perms needs a repository")
	}
	name, err := CleanName(args[0])
	if err != nil {
		return Builtin{}, invalidCommand("perms: %v", err)
	}
	b.Repo, args = name, args[1:]
	switch {
	case len(args) == 0:
		b.Sub = PermsList
		return b, nil
	case len(args) == 1 && (args[0] == PermsList || args[0] == PermsRoles):
		b.Sub = args[0]
		return b, nil
	case len(args) == 3 && (args[0] == PermsAdd || args[0] == PermsRemove):
	default:
		return Builtin{}, invalidCommand("perms needs REPO [-l | -lr | + ROLE MEMBER | - ROLE MEMBER]")
	}
	role, member := args[1], args[2]
	if len(role) > maxBuiltinUser || len(strings.TrimPrefix(member, "@")) > maxBuiltinUser ||
		role[0] == '-' || member[0] == '-' || policy.CheckRoleMember(role, member) != nil {
		return Builtin{}, invalidCommand("perms: invalid role %s or member %s (a user name, @group or @all)", echo(role), echo(member))
	}
	b.Sub, b.Role, b.Member = args[0], role, member
	return b, nil
}

// validBuiltinUser checks a user name as keys.ValidUsername does.
func validBuiltinUser(s string) bool {
	if s == "" || len(s) > maxBuiltinUser || s[0] == '-' {
		return false
	}
	return allBytes(s, func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._@-", c) >= 0
	})
}

// validFingerprint checks the form of ssh.FingerprintSHA256: "SHA256:"
// and 43 characters of unpadded base64.
func validFingerprint(s string) bool {
	b64, ok := strings.CutPrefix(s, "SHA256:")
	return ok && len(b64) == 43 && allBytes(b64, func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/'
	})
}
