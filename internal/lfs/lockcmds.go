package lfs

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// lockArgs are a lock's attributes as lock and unlock answer them.
func lockArgs(l Lock) []string {
	return []string{"id=" + l.ID, "path=" + l.Path, "locked-at=" + l.LockedAt.Format(time.RFC3339), "ownername=" + l.Owner}
}

// lock locks a path: 201 with the new lock, or 409 with the lock that
// holds it.
func (s *Session) lock(req request) error {
	if req.body {
		return bad("lock takes no body")
	}
	if ok, err := s.need(req, Upload); !ok {
		return err
	}
	p, ok := req.args["path"]
	if !ok {
		return bad("lock needs a path argument")
	}
	if err := CheckLockPath(p); err != nil {
		return bad("invalid path")
	}
	l, err := s.Locks.Create(p, s.User, req.args["refname"], s.Now())
	var ce *ConflictError
	if errors.As(err, &ce) {
		return s.reply(statusConflict, lockArgs(ce.Held), []string{"already locked by " + ce.Held.Owner}, true)
	}
	if err != nil {
		return s.failed(false, err)
	}
	s.Stats.Locks++
	return s.reply(statusCreated, lockArgs(l), nil, false)
}

// unlock removes a lock: one's own, or with force=true (an admin only)
// another user's.
func (s *Session) unlock(req request) error {
	id, ok := strings.CutPrefix(req.cmd, "unlock ")
	if !ok || id == "" {
		return bad("unlock needs a lock id")
	}
	if req.body {
		return bad("unlock takes no body")
	}
	if ok, err := s.need(req, Upload); !ok {
		return err
	}
	force := false
	switch req.args["force"] {
	case "", "false":
	case "true":
		force = true
	default:
		return bad("force must be true or false")
	}
	if force && !s.Admin {
		return s.reply(statusForbidden, nil, []string{"unlocking another user's lock needs admin access"}, true)
	}
	l, err := s.Locks.Remove(id, s.User, force)
	switch {
	case errors.Is(err, ErrLockNotFound):
		return s.reply(statusNotFound, nil, []string{"lock not found"}, true)
	case errors.Is(err, ErrNotOwner):
		return s.reply(statusForbidden, nil, []string{"lock belongs to " + l.Owner + "; unlocking it needs --force and admin access"}, true)
	case err != nil:
		return s.failed(false, err)
	}
	s.Stats.Locks++
	return s.reply(statusOK, lockArgs(l), nil, false)
}

// listLocks lists locks, a page at a time from cursor (a lock id), those
// of one path or one id if asked; an upload session learns for each
// whether it is ours or theirs, which the client's lock verification
// before a push needs.
func (s *Session) listLocks(req request) error {
	if req.body {
		return bad("list-lock takes no body")
	}
	limit := defaultLockLimit
	if v, ok := req.args["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad("invalid limit %s", quote(v))
		}
		limit = min(n, maxLockLimit)
	}
	all, err := s.Locks.List()
	if err != nil {
		return s.failed(false, err)
	}
	path, id, cursor := req.args["path"], req.args["id"], req.args["cursor"]
	var lines []string
	next := ""
	n := 0
	for _, l := range all {
		if (path != "" && l.Path != path) || (id != "" && l.ID != id) || l.ID < cursor {
			continue
		}
		if n == limit {
			next = l.ID
			break
		}
		n++
		lines = append(lines, "lock "+l.ID, "path "+l.ID+" "+l.Path,
			"locked-at "+l.ID+" "+l.LockedAt.Format(time.RFC3339), "ownername "+l.ID+" "+l.Owner)
		if s.Op == Upload {
			who := "theirs"
			if l.Owner == s.User {
				who = "ours"
			}
			lines = append(lines, "owner "+l.ID+" "+who)
		}
	}
	var args []string
	if next != "" {
		args = append(args, "next-cursor="+next)
	}
	return s.reply(statusOK, args, lines, true)
}
