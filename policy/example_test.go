package policy_test

import (
	"fmt"
	"strings"

	"github.com/gitserver/gitserver/policy"
)

func ExamplePolicy_Decide() {
	const src = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "write"

[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "write"

[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`
	p, err := policy.Parse("policy.toml", strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Decide("alice", "bob/secret.git", policy.Write))
	fmt.Println(p.Decide("bob", "users/bob/notes", policy.Write))
	fmt.Println(p.Decide("bob", "public/site", policy.Write))
	fmt.Println(p.Decide("bob", "alice/secret", policy.Read))
	// Output:
	// allow: write by policy.toml:5
	// allow: write by policy.toml:10
	// deny: read by policy.toml:15
	// deny: no rule matched
}

func ExampleParse() {
	src := "[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\nacess = \"read\"\n"
	_, err := policy.Parse("policy.toml", strings.NewReader(src))
	fmt.Println(err)
	// Output:
	// policy: policy.toml:4: unknown field "rule.acess"
}
