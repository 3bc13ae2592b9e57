package filedriver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

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
const outlineMagic = "gitserver policy outline 1"

// maxOutline bounds what is read of an outline record: a policy of
// policy.MaxSize bytes cannot need more.
const maxOutline = 2*policy.MaxSize + 4096

// outlineRecord is the parsed record.
type outlineRecord struct {
	build, digest string
	outline       policy.Outline
}

// encodeOutline writes the record for the document whose digest is given.
// Names are Go-quoted, one span a line: "START END NAME...".
func encodeOutline(digest string, o policy.Outline) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nbuild %s\nsha256 %s\n", outlineMagic, version.Get().BuildID(), digest)
	for _, s := range o.Rules {
		fmt.Fprintf(&b, "%d %d", s.Start, s.End)
		for _, n := range s.Names {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(n))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// readOutline reads the record at path.
func readOutline(path string) (*outlineRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxOutline, path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	var head []string
	for len(head) < 3 && sc.Scan() {
		head = append(head, sc.Text())
	}
	r := &outlineRecord{}
	build, okB := strings.CutPrefix(at(head, 1), "build ")
	digest, okD := strings.CutPrefix(at(head, 2), "sha256 ")
	if at(head, 0) != outlineMagic || !okB || !okD {
		return nil, errors.New("not an outline record")
	}
	r.build, r.digest = build, digest
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			return nil, errors.New("bad span")
		}
		var s policy.Span
		if s.Start, err = strconv.Atoi(f[0]); err != nil {
			return nil, err
		}
		if s.End, err = strconv.Atoi(f[1]); err != nil {
			return nil, err
		}
		for _, q := range f[2:] {
			n, err := strconv.Unquote(q)
			if err != nil {
				return nil, err
			}
			s.Names = append(s.Names, n)
		}
		r.outline.Rules = append(r.outline.Rules, s)
	}
	return r, sc.Err()
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// cutFor parses only the rules of data that can decide about repo, when
// the record at path says that data, these very bytes, parsed whole in
// this build; ok is false when it does not (or the cut fails), and the
// caller must parse data whole.
func cutFor(path, file string, data []byte, repo string) (pol *policy.Policy, ok bool) {
	r, err := readOutline(path)
	if err != nil || r.build != version.Get().BuildID() || r.digest != policy.Digest(data) {
		return nil, false
	}
	cut, err := r.outline.Cut(data, repo)
	if err != nil {
		return nil, false
	}
	pol, err = policy.Parse(file, bytes.NewReader(cut))
	return pol, err == nil
}

// writeOutline records data, which parsed whole, at path. It is a cache:
// a failure only means that the next process parses the whole policy too.
func writeOutline(path string, data []byte) {
	o, err := policy.OutlineOf(data)
	if err != nil {
		return
	}
	_ = atomicfile.Write(path, encodeOutline(policy.Digest(data), o), 0o644, -1, -1)
}
