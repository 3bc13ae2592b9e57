// Command linkonly links everything gitserver links and only prints
// hello: BenchmarkAuthorizedKeys's measure of the start-up cost of the
// binary itself, before any work. (Under testdata, so ./... skips it.)
package main

import (
	"fmt"

	_ "github.com/gitserver/gitserver/shim/cli"
)

func main() { fmt.Println("hello") }
