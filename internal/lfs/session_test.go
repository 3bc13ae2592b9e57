package lfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tclient speaks the client's side of the protocol to a Session running
// on pipes.
type tclient struct {
	t    *testing.T
	w    *io.PipeWriter
	r    *pktReader
	done chan error
	sess *Session
}

func startSession(t *testing.T, repo, op, user string, admin bool) *tclient {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &Session{Op: op, User: user, Admin: admin, MaxObjectSize: 1 << 20,
		Objects: NewObjects(repo), Locks: NewLocks(repo),
		Now: func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }}
	c := &tclient{t: t, w: inW, r: newPktReader(outR), done: make(chan error, 1), sess: s}
	go func() {
		err := s.Serve(inR, outW)
		outW.Close()
		inR.Close()
		c.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	caps := c.readAll()
	if strings.Join(caps, ",") != "version=1,locking" {
		t.Fatalf("capabilities %q", caps)
	}
	return c
}

// send writes raw pkt-line text: "|" is a delim packet and "" a flush;
// other strings are text packets.
func (c *tclient) send(pkts ...string) {
	c.t.Helper()
	var b bytes.Buffer
	for _, p := range pkts {
		switch p {
		case "":
			b.WriteString("0000")
		case "|":
			b.WriteString("0001")
		default:
			fmt.Fprintf(&b, "%04x%s\n", len(p)+5, p)
		}
	}
	if _, err := c.w.Write(b.Bytes()); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *tclient) sendData(d []byte) {
	for len(d) > 0 {
		n := min(len(d), MaxPayload)
		fmt.Fprintf(c.w, "%04x", n+4)
		c.w.Write(d[:n])
		d = d[n:]
	}
}

// readAll reads packets to a flush, a delim as "|".
func (c *tclient) readAll() []string {
	c.t.Helper()
	var out []string
	for {
		k, b, err := c.r.next()
		if err != nil {
			c.t.Fatalf("read: %v (so far %q)", err, out)
		}
		switch k {
		case flush:
			return out
		case delim:
			out = append(out, "|")
		default:
			out = append(out, strings.TrimSuffix(string(b), "\n"))
		}
	}
}

func (c *tclient) do(pkts ...string) []string {
	c.t.Helper()
	c.send(pkts...)
	return c.readAll()
}

func (c *tclient) version() {
	c.t.Helper()
	if got := c.do("version 1", ""); got[0] != "status 200" {
		c.t.Fatalf("version: %q", got)
	}
}

func (c *tclient) quit() {
	c.t.Helper()
	if got := c.do("quit", ""); got[0] != "status 200" {
		c.t.Fatalf("quit: %q", got)
	}
	if err := <-c.done; err != nil {
		c.t.Fatalf("Serve after quit: %v", err)
	}
}

func oidOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (c *tclient) put(oid string, size int, d []byte) []string {
	c.t.Helper()
	c.send("put-object "+oid, fmt.Sprintf("size=%d", size), "|")
	c.sendData(d)
	c.send("")
	return c.readAll()
}

func status(got []string) string {
	if len(got) == 0 {
		return ""
	}
	return got[0]
}

func TestUploadDownloadRoundTrip(t *testing.T) {
	repo := t.TempDir()
	data := bytes.Repeat([]byte("gitserver lfs "), 20000) // several packets
	oid := oidOf(data)
	up := startSession(t, repo, Upload, "alice", false)
	up.version()
	got := up.do("batch", "transfer=ssh", "hash-algo=sha256", "refname=refs/heads/main", "|", fmt.Sprintf("%s %d", oid, len(data)), "")
	want := []string{"status 200", "hash-algo=sha256", "|", fmt.Sprintf("%s %d upload", oid, len(data)), fmt.Sprintf("%s %d verify", oid, len(data))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("upload batch = %q, want %q", got, want)
	}
	if got := up.put(oid, len(data), data); status(got) != "status 200" {
		t.Fatalf("put-object = %q", got)
	}
	if got := up.do("verify-object "+oid, fmt.Sprintf("size=%d", len(data)), ""); status(got) != "status 200" {
		t.Fatalf("verify-object = %q", got)
	}
	if got := up.do("batch", "|", fmt.Sprintf("%s %d", oid, len(data)), ""); got[3] != fmt.Sprintf("%s %d noop", oid, len(data)) {
		t.Fatalf("batch for a stored object = %q, want noop", got)
	}
	up.quit()
	if up.sess.Stats.Objects != 1 || up.sess.Stats.BytesIn != int64(len(data)) {
		t.Errorf("upload stats %+v", up.sess.Stats)
	}
	fi, err := os.Stat(filepath.Join(repo, "lfs", "objects", oid[:2], oid[2:4], oid))
	if err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("stored object: %v %v", fi, err)
	}

	down := startSession(t, repo, Download, "bob", false)
	down.version()
	missing := oidOf([]byte("nope"))
	got = down.do("batch", "transfer=ssh", "|", fmt.Sprintf("%s 5", oid), missing+" 4", "")
	if got[3] != fmt.Sprintf("%s %d download", oid, len(data)) || got[4] != missing+" 4 noop" {
		t.Fatalf("download batch = %q", got)
	}
	down.send("get-object "+oid, fmt.Sprintf("size=%d", len(data)), "")
	var head []string
	for {
		k, b, err := down.r.next()
		if err != nil {
			t.Fatal(err)
		}
		if k == delim {
			break
		}
		head = append(head, strings.TrimSpace(string(b)))
	}
	if strings.Join(head, ",") != fmt.Sprintf("status 200,size=%d", len(data)) {
		t.Fatalf("get-object head %q", head)
	}
	var body bytes.Buffer
	for {
		k, b, err := down.r.next()
		if err != nil {
			t.Fatal(err)
		}
		if k == flush {
			break
		}
		body.Write(b)
	}
	if !bytes.Equal(body.Bytes(), data) {
		t.Fatalf("get-object returned %d bytes, not the object", body.Len())
	}
	if got := down.do("get-object "+missing, ""); strings.Join(got, ",") != "status 404,|,object not found" {
		t.Fatalf("get-object of a missing object = %q", got)
	}
	down.quit()
}

func TestRefusals(t *testing.T) {
	repo := t.TempDir()
	good := []byte("hello")
	oid := oidOf(good)
	c := startSession(t, repo, Upload, "alice", false)
	if got := c.do("batch", "|", oid+" 5", ""); status(got) != "status 400" {
		t.Fatalf("batch before version = %q", got)
	}
	c.version()
	for _, tc := range []struct {
		name string
		pkts []string
		want string
	}{
		{"traversal oid", []string{"verify-object ../../../../etc/passwd", "size=1", ""}, "status 400"},
		{"uppercase oid", []string{"verify-object " + strings.ToUpper(oid), "size=5", ""}, "status 400"},
		{"short oid", []string{"verify-object " + oid[:63], "size=5", ""}, "status 400"},
		{"traversal in batch", []string{"batch", "|", "../" + oid[3:] + " 5", ""}, "status 400"},
		{"sha512", []string{"batch", "hash-algo=sha512", "|", oid + " 5", ""}, "status 409"},
		{"other transfer", []string{"batch", "transfer=basic", "|", oid + " 5", ""}, "status 409"},
		{"too large in batch", []string{"batch", "|", oid + " 2000000", ""}, "status 413"},
		{"negative size", []string{"batch", "|", oid + " -5", ""}, "status 400"},
		{"missing size", []string{"put-object " + oid, "|", ""}, "status 400"},
		{"unknown command", []string{"rm -rf /", ""}, "status 400"},
		{"get on upload", []string{"get-object " + oid, ""}, "status 403"},
		{"bad argument", []string{"batch", "no-equals-sign", "|", oid + " 5", ""}, "status 400"},
		{"twice", []string{"lock", "path=a", "path=b", ""}, "status 400"},
		{"control char", []string{"lock", "path=a\x1b[2J", ""}, "status 400"},
		{"old version", []string{"version 2", ""}, "status 400"},
	} {
		if got := c.do(tc.pkts...); status(got) != tc.want {
			t.Errorf("%s: %q, want %s", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		size int
		data []byte
		want string
	}{
		{"wrong hash", 5, []byte("HELLO"), "status 400"},
		{"short data", 5, []byte("hell"), "status 400"},
		{"long data", 5, []byte("hello!"), "status 400"},
		{"over the limit", 2 << 20, make([]byte, 2<<20), "status 413"},
	} {
		if got := c.put(oid, tc.size, tc.data); status(got) != tc.want {
			t.Errorf("%s: %q, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "lfs", "objects", oid[:2], oid[2:4], oid)); err == nil {
		t.Fatal("a refused upload left an object")
	}
	// The session still works after all that.
	if got := c.put(oid, 5, good); status(got) != "status 200" {
		t.Fatalf("good put after refusals: %q", got)
	}
	c.quit()
	noTemps(t, repo)
}

func noTemps(t *testing.T, repo string) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(repo, "lfs", "tmp"))
	if len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestOversizedPacketEndsSession(t *testing.T) {
	c := startSession(t, t.TempDir(), Upload, "alice", false)
	io.WriteString(c.w, "fff1")
	if err := <-c.done; err == nil || !strings.Contains(err.Error(), "pkt-line") {
		t.Fatalf("Serve = %v, want a framing error", err)
	}
}

func TestEOFMidObjectLeavesNothing(t *testing.T) {
	repo := t.TempDir()
	data := bytes.Repeat([]byte("x"), 300000)
	oid := oidOf(data)
	c := startSession(t, repo, Upload, "alice", false)
	c.version()
	c.send("put-object "+oid, fmt.Sprintf("size=%d", len(data)), "|")
	c.sendData(data[:150000])
	c.w.Close()
	if err := <-c.done; err == nil {
		t.Fatal("Serve returned no error for EOF mid-object")
	}
	if _, err := os.Stat(filepath.Join(repo, "lfs", "objects", oid[:2], oid[2:4], oid)); err == nil {
		t.Fatal("partial object stored")
	}
	noTemps(t, repo)
}

func TestEndWithoutQuitIsClean(t *testing.T) {
	c := startSession(t, t.TempDir(), Download, "alice", false)
	c.version()
	c.w.Close()
	if err := <-c.done; err != nil {
		t.Fatalf("Serve = %v, want nil for a client that left between requests", err)
	}
}

func TestConcurrentUploadsOfOneObject(t *testing.T) {
	repo := t.TempDir()
	obj := bytes.Repeat([]byte("same object "), 50000)
	oid := oidOf(obj)
	var wg sync.WaitGroup
	results := make([]string, 4)
	for i := range results {
		c := startSession(t, repo, Upload, fmt.Sprint("u", i), false)
		c.version()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.send("put-object "+oid, fmt.Sprintf("size=%d", len(obj)), "|")
			c.sendData(obj)
			c.send("")
			k, b, err := c.r.next()
			if err == nil && k == data {
				results[i] = strings.TrimSpace(string(b))
			}
			drainClient(c)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != "status 200" {
			t.Errorf("upload %d: %q", i, r)
		}
	}
	got, err := os.ReadFile(filepath.Join(repo, "lfs", "objects", oid[:2], oid[2:4], oid))
	if err != nil || !bytes.Equal(got, obj) {
		t.Fatalf("stored object differs: %v", err)
	}
	noTemps(t, repo)
}

func drainClient(c *tclient) {
	for {
		k, _, err := c.r.next()
		if err != nil || k == flush {
			return
		}
	}
}
