package gitolite

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// writeRule writes r as a [[rule]] table.
func writeRule(b *bytes.Buffer, r rule) {
	fmt.Fprintf(b, "\n# gitolite.conf:%d: %s\n[[rule]]\n", r.line, r.src)
	writeList(b, "repos", r.repos)
	writeList(b, "repos_regex", r.reposRegex)
	writeList(b, "users", r.users)
	writeList(b, "refs_regex", r.refsRegex)
	if r.level != "" {
		fmt.Fprintf(b, "access = %q\n", r.level)
	}
	writeList(b, "allow", r.allow)
}

// writeOption writes o as an [[option]] table.
func writeOption(b *bytes.Buffer, o opt) {
	fmt.Fprintf(b, "\n# gitolite.conf:%d: %s\n[[option]]\n", o.line, o.src)
	writeList(b, "repos", o.repos)
	writeList(b, "repos_regex", o.reposRegex)
	writeList(b, "explicit_rights", o.explicit)
	if o.denyRules {
		b.WriteString("deny_rules = true\n")
	}
}

func writeList(b *bytes.Buffer, key string, list []string) {
	if len(list) == 0 {
		return
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = tomlString(s)
	}
	fmt.Fprintf(b, "%s = [%s]\n", key, strings.Join(q, ", "))
}

// tomlString quotes s as a TOML literal string when it can (regexes keep
// their backslashes as written), else as a basic string.
func tomlString(s string) string {
	if !strings.ContainsAny(s, "'\n\r") {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

// tomlKey writes a group name as a bare key when it can: letters,
// digits, '_' and '-'; else quoted.
func tomlKey(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return tomlString(s)
		}
	}
	return s
}
