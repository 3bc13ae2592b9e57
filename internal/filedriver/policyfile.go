package filedriver

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitserver/gitserver/policy"
)

// policyFile is the policy in a file as the file is now. Each get stats
// the file and compares what it finds, its fileID, with the one it last
// parsed; only a change makes it read and parse the file again. A file
// that does not parse is an error until it changes: get never falls back
// to a version parsed before, which might grant what the operator has
// just revoked.
//
// A change within the granularity of the file system's clock could leave
// size, mtime and ctime as they were. As git does for its index, a load
// whose ctime is less than racyWindow before the load is not trusted:
// until a later load is, each get reads the file again and compares its
// bytes with the ones parsed (it parses them again only if they differ).
//
// policyFile is safe for concurrent use: the current version is an
// atomic pointer, which gets that find the file unchanged only read; the
// mutex serialises loads, so that a load never replaces a newer one.
type policyFile struct {
	path string
	mu   sync.Mutex
	cur  atomic.Pointer[loadedPolicy]

	// outline is the path of the outline record (OutlineName), "" for
	// none; cut is the policy getFor cut for one repository.
	outline string
	cut     atomic.Pointer[cutPolicy]
}

// loadedPolicy is one version of the policy file.
type loadedPolicy struct {
	id   fileID
	racy bool   // changed too recently for id to tell a later change
	data []byte // what was parsed, kept while racy
	pol  *policy.Policy
	err  error
}

// cutPolicy is the policy file cut down to the rules that can decide
// about one repository (policy.Outline.Cut).
type cutPolicy struct {
	repo string // without ".git"
	id   fileID
	racy bool
	pol  *policy.Policy
}

// racyWindow is how recent a change must be for a load not to be
// trusted: more than a file system timestamp's granularity (a clock tick
// for most Linux file systems, 2 s for FAT) and a small clock skew. A
// variable so that tests can check the stat alone.
var racyWindow = 3 * time.Second

// get returns the policy as the file is now.
func (f *policyFile) get() (*policy.Policy, error) {
	fi, err := f.stat()
	if err != nil {
		return nil, err
	}
	if p := f.cur.Load(); p != nil && !p.racy && p.id == idOf(fi) {
		return p.pol, p.err
	}
	return f.load()
}

// getFor returns a policy that decides every request about the
// repository repo as the file does now. In a process that has parsed the
// whole file, or asks about a second repository, that is get's. The
// first time, in a process that serves one request (sshd's forced
// command, a hook), it reads the file, and if the outline record says
// that these very bytes parsed whole in this build, it parses only the
// rules that can match repo: for a policy of thousands of rules, a few
// of them. Otherwise it parses the whole file, as get, and records its
// outline for the next process. A policy under minOutline bytes is
// always parsed whole. A file that does not parse whole is
// never cut: the record is only written for one that does.
func (f *policyFile) getFor(repo string) (*policy.Policy, error) {
	repo = strings.TrimSuffix(repo, ".git")
	c := f.cut.Load()
	if f.outline == "" || f.cur.Load() != nil || c != nil && c.repo != repo {
		return f.get()
	}
	fi, err := f.stat()
	if err != nil {
		return nil, err
	}
	if c != nil && !c.racy && c.id == idOf(fi) {
		return c.pol, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	id, data, err := f.read()
	if err != nil {
		return nil, err
	}
	if len(data) < minOutline {
		p := f.install(id, data, start)
		return p.pol, p.err
	}
	digest := policy.Digest(data)
	if pol, ok := cutFor(f.outline, f.path, data, digest, repo); ok {
		f.cut.Store(&cutPolicy{repo: repo, id: id, racy: isRacy(id, start), pol: pol})
		return pol, nil
	}
	p := f.install(id, data, start)
	if p.err == nil {
		writeOutline(f.outline, data, digest)
	}
	return p.pol, p.err
}

// stat stats the file, which must be a regular file.
func (f *policyFile) stat() (os.FileInfo, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("filedriver: policy %s is not a regular file", f.path)
	}
	return fi, nil
}

// read reads the file, and a byte more than policy.MaxSize, so that
// Parse says a bigger one is too big, and returns the fileID of what it
// read.
func (f *policyFile) read() (fileID, []byte, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return fileID{}, nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fileID{}, nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(file, policy.MaxSize+1))
	if err != nil {
		return fileID{}, nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	return idOf(fi), data, nil
}

// isRacy reports whether a version with id, read at start, changed too
// recently for id to tell a later change.
func isRacy(id fileID, start time.Time) bool {
	return id.ctime > start.Add(-racyWindow).UnixNano()
}

// load reads the file and parses it, unless it is the version already
// loaded, and makes it the current one.
func (f *policyFile) load() (*policy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	id, data, err := f.read()
	if err != nil {
		return nil, err
	}
	if old := f.cur.Load(); old != nil && !old.racy && old.id == id {
		return old.pol, old.err // loaded by another get meanwhile
	}
	p := f.install(id, data, start)
	return p.pol, p.err
}

// install parses data, the version id read at start, unless it is the
// current one's, and makes it the current one. f.mu must be held.
func (f *policyFile) install(id fileID, data []byte, start time.Time) *loadedPolicy {
	old := f.cur.Load()
	p := &loadedPolicy{id: id, racy: isRacy(id, start)}
	if old != nil && old.id == id && bytes.Equal(old.data, data) {
		p.pol, p.err = old.pol, old.err
	} else if p.pol, p.err = policy.Parse(f.path, bytes.NewReader(data)); p.err != nil {
		p.err = fmt.Errorf("filedriver: every request is denied until the policy parses: %w", p.err)
	}
	if p.racy {
		p.data = data
	}
	f.cur.Store(p)
	return p
}
