package keys_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// A test key; never use it for anything else.
const exampleLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOFEBIJJEcmsCwJMZUarVAKzxLpe+knwGHCE+qoQC6g alice@laptop"

func ExampleStore() {
	dir, err := os.MkdirTemp("", "keys-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s := keys.Open(filepath.Join(dir, "keys.db"), keys.Options{})

	// An admin imports keys.
	input := "alice " + exampleLine[:strings.LastIndexByte(exampleLine, ' ')] + " Work laptop\n"
	var recs []keys.Record
	bad, err := sshkey.ParseImport(strings.NewReader(input), func(r keys.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil || len(bad) > 0 {
		log.Fatal(err, bad)
	}
	if _, err := s.Add(recs); err != nil {
		log.Fatal(err)
	}

	// sshd's AuthorizedKeysCommand passes the key's type and base64 blob.
	typ, b64, _ := strings.Cut(recs[0].Key.AuthorizedKey(), " ")
	k, err := sshkey.ParseKey(typ, b64)
	if err != nil {
		log.Fatal(err)
	}
	r, err := s.Lookup(k.Fingerprint)
	if errors.Is(err, keys.ErrNotFound) {
		fmt.Println("unknown key")
		return
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%s)\n", r.User, r.Title)

	// The same key cannot belong to bob too.
	_, err = s.Add([]keys.Record{{User: "bob", Key: k}})
	var conflict *keys.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Owner)
	// Output:
	// alice (Work laptop)
	// true alice
}
