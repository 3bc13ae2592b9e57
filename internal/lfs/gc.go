package lfs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultGrace is how old an unreferenced object must be before GC
// removes it: git-lfs uploads objects before the push that references
// them, so a young object may belong to a push still in flight.
const DefaultGrace = 7 * 24 * time.Hour

// MinGrace is the least grace GC accepts.
const MinGrace = time.Hour

// maxPointer bounds a pointer file; git-lfs's own limit is 1024 bytes.
const maxPointer = 1024

// tmpGrace is how old an upload's temporary file must be before GC takes
// it for the leftover of a killed session.
const tmpGrace = 24 * time.Hour

// GCOptions says how to collect.
type GCOptions struct {
	Git    string   // absolute path of git
	Env    []string // git's environment
	Grace  time.Duration
	DryRun bool
	Now    time.Time
}

// GCResult is what GC found and did.
type GCResult struct {
	Referenced   int   // objects a ref reaches
	Removed      int   // unreferenced objects older than the grace, removed (or, dry, to remove)
	RemovedBytes int64 // their bytes
	Young        int   // unreferenced objects kept for being younger than the grace
	Temps        int   // leftover upload files removed
}

// GC removes the objects of the repository at repoDir that no ref
// reaches and that are older than the grace period (at least MinGrace),
// and temporary files of uploads that died more than a day ago. A ref
// reaches an object when a blob in its history is an LFS pointer to it.
func GC(ctx context.Context, repoDir string, o GCOptions) (GCResult, error) {
	var res GCResult
	if o.Grace < MinGrace {
		return res, fmt.Errorf("lfs: grace period %v is shorter than %v", o.Grace, MinGrace)
	}
	refd, err := referenced(ctx, repoDir, o)
	if err != nil {
		return res, err
	}
	res.Referenced = len(refd)
	objs := NewObjects(repoDir)
	err = walkObjects(objs, func(oid, path string, fi fs.FileInfo) error {
		switch {
		case refd[oid]:
		case o.Now.Sub(fi.ModTime()) < o.Grace:
			res.Young++
		default:
			res.Removed++
			res.RemovedBytes += fi.Size()
			if !o.DryRun {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Temps, err = removeTemps(objs.tmpDir(), o.Now.Add(-tmpGrace), o.DryRun)
	return res, err
}

// walkObjects calls fn for each stored object.
func walkObjects(o *Objects, fn func(oid, path string, fi fs.FileInfo) error) error {
	root := filepath.Join(o.dir, "objects")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() || !ValidOID(d.Name()) || o.Path(d.Name()) != p {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(d.Name(), p, fi)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Usage counts the objects stored for the repository at repoDir.
func Usage(repoDir string) (objects int, bytes int64, err error) {
	err = walkObjects(NewObjects(repoDir), func(_, _ string, fi fs.FileInfo) error {
		objects++
		bytes += fi.Size()
		return nil
	})
	return objects, bytes, err
}

func removeTemps(dir string, before time.Time, dry bool) (int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(before) {
			continue
		}
		n++
		if !dry {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
		}
	}
	return n, nil
}

// referenced lists the objects that pointers in the history of every ref
// name: git rev-list lists the small blobs, git cat-file reads them.
func referenced(ctx context.Context, repoDir string, o GCOptions) (map[string]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	git := func(args ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, o.Git, append([]string{"--git-dir=" + repoDir}, args...)...)
		c.Env = o.Env
		return c
	}
	var errs bytes.Buffer
	rl := git("rev-list", "--objects", "--all", "--no-object-names",
		"--filter=combine:object:type=blob+blob:limit="+strconv.Itoa(maxPointer+1))
	rl.Stderr = &errs
	list, err := rl.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cf := git("cat-file", "--batch")
	cf.Stdin, cf.Stderr = list, &errs
	out, err := cf.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := rl.Start(); err != nil {
		return nil, err
	}
	if err := cf.Start(); err != nil {
		rl.Wait()
		return nil, err
	}
	refd, perr := readPointers(bufio.NewReader(out))
	if perr != nil {
		cancel()
	}
	cerr, rerr := cf.Wait(), rl.Wait()
	if err := errors.Join(perr, rerr, cerr); err != nil {
		return nil, fmt.Errorf("lfs: listing the objects the refs reach: %w: %s", err, strings.TrimSpace(errs.String()))
	}
	return refd, nil
}

// readPointers reads cat-file --batch output and keeps the object ids of
// the blobs that are LFS pointers.
func readPointers(r *bufio.Reader) (map[string]bool, error) {
	refd := map[string]bool{}
	for {
		hdr, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) && hdr == "" {
			return refd, nil
		}
		if err != nil {
			return nil, err
		}
		f := strings.Fields(hdr)
		if len(f) != 3 {
			continue // "<oid> missing"
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("cat-file header %q", hdr)
		}
		body := make([]byte, size+1) // and its newline
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		if f[1] == "blob" && size <= maxPointer {
			if oid, ok := PointerOID(body[:size]); ok {
				refd[oid] = true
			}
		}
	}
}

// PointerOID is the object id an LFS pointer file names.
func PointerOID(b []byte) (string, bool) {
	if !bytes.HasPrefix(b, []byte("version https://git-lfs.github.com/spec/v1\n")) {
		return "", false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if oid, ok := strings.CutPrefix(line, "oid sha256:"); ok && ValidOID(oid) {
			return oid, true
		}
	}
	return "", false
}
