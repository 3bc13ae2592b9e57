package filedriver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/gitserver/gitserver/internal/atomicfile"
	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/policy"
)

// OutlineName is the name of the record, in the data directory, of the
// last version of the policy file at policyPath that parsed whole: its
// SHA-256, the build that parsed it, and its policy.Outline. With it, a
// process that serves one request parses only the rules that can decide
// about the request's repository (see policyFile.getFor). It is a cache:
// any process may rewrite it, and one that is missing, damaged or of
// another document or build is ignored. The name holds a digest of the
// policy's path, so that configs that share a data directory and not a
// policy do not overwrite each other's.
func OutlineName(policyPath string) string {
	return "policy-" + policy.Digest([]byte(policyPath))[:16] + ".outline"
}

// minOutline is the size below which a policy is parsed whole, with no
// record: a few dozen rules parse in less than reading a record takes.
const minOutline = 8 << 10

// outlineMagic is the first line of an outline record; a change of the
// format changes it.
const outlineMagic = "gitserver policy outline 2"

// maxOutline bounds what is read of an outline record: a policy of
// policy.MaxSize bytes cannot need more.
const maxOutline = 2*policy.MaxSize + 4096

// encodeOutline writes the record of o for the document whose digest is
// given: four lines of header (the magic, "build ID", "sha256 DIGEST" and
// "body DIGEST", the SHA-256 of what follows, so that a damaged record is
// never used), then one line per span, tab-separated: START, END and each
// name Go-quoted (a quoted name holds no tab and no newline).
func encodeOutline(digest string, o policy.Outline) []byte {
	var body bytes.Buffer
	for _, s := range o.Rules {
		body.WriteString(strconv.Itoa(s.Start))
		body.WriteByte('\t')
		body.WriteString(strconv.Itoa(s.End))
		for _, n := range s.Names {
			body.WriteByte('\t')
			body.WriteString(strconv.Quote(n))
		}
		body.WriteByte('\n')
	}
	head := fmt.Sprintf("%s\nbuild %s\nsha256 %s\nbody %s\n", outlineMagic, version.Get().BuildID(), digest, policy.Digest(body.Bytes()))
	return append([]byte(head), body.Bytes()...)
}

// readOutline reads the record at path for the document whose digest is
// given, as this build wrote it, and returns its outline for repo (a
// name without ".git"): each span that names repo has Names [repo], the
// others none, which is all that Outline.Cut(data, repo) looks at. A
// name is compared in its quoted form, which is one string's alone, so
// no name is unquoted.
func readOutline(path, digest, repo string) (policy.Outline, error) {
	f, err := os.Open(path)
	if err != nil {
		return policy.Outline{}, err
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxOutline, path)
	if err != nil {
		return policy.Outline{}, err
	}
	var head [4][]byte
	for i := range head {
		line, rest, ok := bytes.Cut(data, []byte{'\n'})
		if !ok {
			return policy.Outline{}, errors.New("outline: short header")
		}
		head[i], data = line, rest
	}
	if string(head[0]) != outlineMagic || string(head[1]) != "build "+version.Get().BuildID() ||
		string(head[2]) != "sha256 "+digest || string(head[3]) != "body "+policy.Digest(data) {
		return policy.Outline{}, errors.New("outline: of another document, build or format, or damaged")
	}
	want := []byte(strconv.Quote(repo))
	named := []string{repo}
	o := policy.Outline{Rules: make([]policy.Span, 0, bytes.Count(data, []byte{'\n'}))}
	for len(data) > 0 {
		var line, start, end []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		start, line, _ = bytes.Cut(line, []byte{'\t'})
		end, line, _ = bytes.Cut(line, []byte{'\t'})
		var s policy.Span
		if s.Start, err = strconv.Atoi(string(start)); err != nil {
			return policy.Outline{}, err
		}
		if s.End, err = strconv.Atoi(string(end)); err != nil {
			return policy.Outline{}, err
		}
		if len(line) == 0 {
			return policy.Outline{}, errors.New("outline: a span without names")
		}
		for q := range bytes.SplitSeq(line, []byte{'\t'}) {
			if bytes.Equal(q, want) {
				s.Names = named
			}
		}
		o.Rules = append(o.Rules, s)
	}
	return o, nil
}

// cutFor parses only the rules of data, whose policy.Digest is digest,
// that can decide about repo (a name without ".git"), when the record at
// path says that data, these very bytes, parsed whole in this build; ok
// is false when it does not (or the cut fails), and the caller must
// parse data whole.
func cutFor(path, file string, data []byte, digest, repo string) (pol *policy.Policy, ok bool) {
	o, err := readOutline(path, digest, repo)
	if err != nil {
		return nil, false
	}
	cut, err := o.Cut(data, repo)
	if err != nil {
		return nil, false
	}
	pol, err = policy.Parse(file, bytes.NewReader(cut))
	return pol, err == nil
}

// writeOutline records data, which parsed whole and whose policy.Digest
// is digest, at path. It is a cache: a failure only means that the next
// process parses the whole policy too.
func writeOutline(path string, data []byte, digest string) {
	o, err := policy.OutlineOf(data)
	if err != nil {
		return
	}
	_ = atomicfile.Write(path, encodeOutline(digest, o), 0o644, -1, -1)
}
