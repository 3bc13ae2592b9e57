// Package shim turns one authenticated SSH exec request into one git
// invocation: it parses SSH_ORIGINAL_COMMAND (ParseCommand), turns the
// client's path into a repository name (CleanName), asks a Driver who the
// user is and whether they may, resolves the repository inside the
// repository root (Within), and runs git (Plan, Env, Plan.Command).
//
// # Security
//
// SSH_ORIGINAL_COMMAND and the repository path in it are hostile input,
// written by whoever holds an accepted key. ParseCommand accepts only
// git-upload-pack, git-receive-pack and git-upload-archive with exactly
// one argument, bounded in length, with git's own single quoting and
// nothing else; an argument starting with "-" is refused, so the client
// never passes an option to git. CleanName is the only place client text
// becomes a repository name, and it admits no "..", no hidden or
// dash-led segments, no absolute names and no characters outside a small
// ASCII set. Within resolves symlinks and refuses anything that ends up
// outside the repository root.
//
// The shim never runs a shell: git is executed directly with an argv, so
// no quoting, globbing or expansion happens anywhere. git runs with a
// minimal environment built from scratch (a fixed PATH, HOME, a validated
// GIT_PROTOCOL and the gitserver variables for hooks); nothing of the
// client's or sshd's environment is inherited.
//
// A repository that does not exist and one the user may not access look
// the same to the client: one fixed message, decided before the disk is
// looked at. Errors meant for the client are short and never carry paths,
// rules or more than a few quoted bytes of the input; the detail goes to
// the operator's log.
package shim
