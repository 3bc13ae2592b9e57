package sshkey_test

import (
	"fmt"
	"log"

	"github.com/gitserver/gitserver/keys/sshkey"
)

// A test key; never use it for anything else.
const exampleLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOFEBIJJEcmsCwJMZUarVAKzxLpe+knwGHCE+qoQC6g alice@laptop"

func ExampleParseLine() {
	k, err := sshkey.ParseLine(exampleLine)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Type, k.Comment)
	fmt.Println(k.Fingerprint)

	_, err = sshkey.ParseLine(`command="/bin/sh" ` + exampleLine)
	fmt.Println(err)
	// Output:
	// ssh-ed25519 alice@laptop
	// SHA256:QsJCVEcz/iMW8p/V5LImi30w08XDnJ+F1wOi92P/GTM
	// keys: key options are not allowed; remove everything before the key type
}
