package filedriver

import (
	"bytes"
	"fmt"
	"io"
	"os"
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
}

// loadedPolicy is one version of the policy file.
type loadedPolicy struct {
	id   fileID
	racy bool   // changed too recently for id to tell a later change
	data []byte // what was parsed, kept while racy
	pol  *policy.Policy
	err  error
}

// racyWindow is how recent a change must be for a load not to be
// trusted: more than a file system timestamp's granularity (a clock tick
// for most Linux file systems, 2 s for FAT) and a small clock skew. A
// variable so that tests can check the stat alone.
var racyWindow = 3 * time.Second

// get returns the policy as the file is now.
func (f *policyFile) get() (*policy.Policy, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("filedriver: policy %s is not a regular file", f.path)
	}
	if p := f.cur.Load(); p != nil && !p.racy && p.id == idOf(fi) {
		return p.pol, p.err
	}
	return f.load()
}

// load reads the file and parses it, unless it is the version already
// loaded, and makes it the current one.
func (f *policyFile) load() (*policy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	file, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	id := idOf(fi)
	old := f.cur.Load()
	if old != nil && !old.racy && old.id == id {
		return old.pol, old.err // loaded by another get meanwhile
	}
	data, err := io.ReadAll(io.LimitReader(file, policy.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("filedriver: policy: %w", err)
	}
	p := &loadedPolicy{id: id, racy: id.ctime > start.Add(-racyWindow).UnixNano()}
	if old != nil && old.id == id && bytes.Equal(old.data, data) {
		p.pol, p.err = old.pol, old.err
	} else if p.pol, p.err = policy.Parse(f.path, bytes.NewReader(data)); p.err != nil {
		p.err = fmt.Errorf("filedriver: every request is denied until the policy parses: %w", p.err)
	}
	if p.racy {
		p.data = data
	}
	f.cur.Store(p)
	return p.pol, p.err
}
