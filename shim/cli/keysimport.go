package cli

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// KeysImportCmd bulk-loads keys.
type KeysImportCmd struct {
	File  string `arg:"" help:"File of lines 'USER KEYTYPE BASE64 [TITLE]'; - for stdin." placeholder:"FILE"`
	Batch int    `default:"5000" help:"Keys per write transaction; small batches keep logins from waiting on the import."`
}

// Run imports in short transactions so that sshd's lookups never wait
// long, keeping the good lines and reporting the bad ones.
func (c *KeysImportCmd) Run(cli *CLI, e *env) error {
	if c.Batch < 1 || c.Batch > 100000 {
		return fmt.Errorf("--batch %d is out of range (1 to 100000)", c.Batch)
	}
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	r, name, closeIn, err := openInput(e, c.File)
	if err != nil {
		return err
	}
	defer closeIn()
	store := a.Store()
	progress := isTerminal(e.stderr)
	now := time.Now().UTC()
	var batch []keys.Record
	added, conflicts := 0, 0
	var storeErr error
	flush := func() {
		if len(batch) == 0 || storeErr != nil {
			return
		}
		n, errs, err := store.Import(batch)
		if err != nil {
			storeErr = err
			return
		}
		added += n
		for _, err := range errs {
			conflicts++
			fmt.Fprintf(e.stderr, "gitserver: %s: %v\n", name, err)
		}
		batch = batch[:0]
		if progress {
			fmt.Fprintf(e.stderr, "\rimported %d keys", added)
		}
	}
	bad, err := sshkey.ParseImport(r, func(rec keys.Record) error {
		rec.Added = now
		batch = append(batch, rec)
		if len(batch) >= c.Batch {
			flush()
		}
		return storeErr
	})
	flush()
	if storeErr != nil {
		return fmt.Errorf("key store %s: %w (imported %d key(s) before it failed)", store.Path(), storeErr, added)
	}
	if progress {
		fmt.Fprintln(e.stderr)
	}
	for _, le := range bad {
		fmt.Fprintf(e.stderr, "gitserver: %s:%v\n", name, le)
	}
	a.Log.Named("keys").Info("keys imported", "file", name, "added", added, "bad_lines", len(bad), "conflicts", conflicts)
	fmt.Fprintf(e.stdout, "imported %d key(s); %d bad line(s), %d conflict(s)\n", added, len(bad), conflicts)
	if err != nil {
		return err
	}
	if len(bad)+conflicts > 0 {
		return fmt.Errorf("%d line(s) not imported (the others were kept); fix them and import those lines again", len(bad)+conflicts)
	}
	return nil
}

// isTerminal reports whether w is a terminal, for progress display.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
