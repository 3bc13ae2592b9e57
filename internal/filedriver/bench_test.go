package filedriver

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// benchPolicy is a policy of the usual shape: personal repositories,
// team repositories by group, and {creator}, which makes every decision
// read the repository's config.
const benchPolicy = `[groups]
admins = ["user0"]
staff  = ["user1", "user2", "user3", "@admins"]

[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"

[[rule]]
repos  = ["**"]
users  = ["{creator}"]
access = "force"

[[rule]]
repos  = ["team/**"]
users  = ["@staff"]
access = "write"

[[rule]]
repos  = ["team/**"]
users  = ["@all"]
access = "read"
`

// BenchmarkRequestChecks measures what the file driver does for every
// request before git starts, on a key store of 1,000,000 keys held by
// 1,000 users (1,000 keys each): CheckKey, GetUserModel and Authorize
// (a fetch of team/app, whose creator the policy asks for), each alone
// and the three together (All, the figure for the budget of 0.3 ms).
// AuthorizeRacy is a decision within racyWindow of an edit, when each
// one reads the policy file again. faults/op is the minor page faults per
// request: each store lookup maps the file afresh, and where a fault is
// expensive (some virtual machines) they, not the B+tree, set the cost.
// Only this benchmark builds the store; that takes a minute or two.
func BenchmarkRequestChecks(b *testing.B) {
	git, err := shim.LookGit()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	cfg := shim.DriverConfig{Repos: filepath.Join(dir, "repos"), DataDir: dir, Policy: filepath.Join(dir, "policy.toml")}
	if err := os.WriteFile(cfg.Policy, []byte(benchPolicy), 0o644); err != nil {
		b.Fatal(err)
	}
	repo := filepath.Join(cfg.Repos, "team/app.git")
	benchGit(b, git, "init", "--bare", "--quiet", repo)
	benchGit(b, git, "config", "--file", filepath.Join(repo, "config"), CreatorKey, "user7")
	d := New(cfg)
	reqs := benchStore(b, d.KeyStore(), 1000000, 1000)
	ctx := context.Background()

	check := func(b *testing.B, r benchReq) shim.UserModel {
		m, err := d.CheckKey(ctx, r.user, r.fp)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	model := func(b *testing.B, r benchReq) shim.UserModel {
		m, err := d.GetUserModel(ctx, r.user)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	authorize := func(b *testing.B, m shim.UserModel) {
		if dec, err := d.Authorize(ctx, m, shim.UploadPack, "team/app.git"); err != nil || !dec.Allow {
			b.Fatalf("Authorize = %+v, %v; want allowed", dec, err)
		}
	}
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	for _, bm := range []struct {
		name   string
		window time.Duration
		run    func(*testing.B, benchReq)
	}{
		{"CheckKey", 0, func(b *testing.B, r benchReq) { check(b, r) }},
		{"GetUserModel", 0, func(b *testing.B, r benchReq) { model(b, r) }},
		{"Authorize", 0, func(b *testing.B, r benchReq) { authorize(b, r.model) }},
		{"AuthorizeRacy", time.Hour, func(b *testing.B, r benchReq) { authorize(b, r.model) }},
		// What the request pipeline does for a file-driver request:
		// CheckKey gives the model, so GetUserModel is not asked.
		{"All", 0, func(b *testing.B, r benchReq) { authorize(b, check(b, r)) }},
	} {
		// A new version of the file, loaded in the first iteration
		// under this racyWindow.
		racyWindow = bm.window
		if err := os.WriteFile(cfg.Policy, []byte(benchPolicy), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(bm.name, func(b *testing.B) {
			f0, ok := minorFaults()
			i := 0
			for b.Loop() {
				bm.run(b, reqs[i%len(reqs)])
				i++
			}
			if f1, _ := minorFaults(); ok {
				b.ReportMetric(float64(f1-f0)/float64(b.N), "faults/op")
			}
		})
	}
}

// benchReq is one request of the benchmark: a key and its user.
type benchReq struct {
	user, fp string
	model    shim.UserModel
}

// benchStore fills s with n keys, held in turn by users user0 to
// user(users-1), with Import in batches of 5000 as gitserver keys import
// does, and returns 1,000 of them spread over the store. The keys are
// random bytes with no private half: for benchmarks only.
func benchStore(b *testing.B, s *keys.Store, n, users int) []benchReq {
	b.Helper()
	start := time.Now()
	r := rand.NewChaCha8([32]byte{1})
	var reqs []benchReq
	const batch = 5000
	for done := 0; done < n; done += batch {
		recs := make([]keys.Record, 0, batch)
		for i := done; i < min(done+batch, n); i++ {
			pub := make([]byte, ed25519.PublicKeySize)
			_, _ = r.Read(pub)
			pk, err := ssh.NewPublicKey(ed25519.PublicKey(pub))
			if err != nil {
				b.Fatal(err)
			}
			blob := pk.Marshal()
			k := keys.Key{Type: pk.Type(), Blob: blob, Fingerprint: keys.Fingerprint(blob)}
			u := fmt.Sprintf("user%d", i%users)
			recs = append(recs, keys.Record{User: u, Key: k})
			if i%max(1, n/1000) == 0 {
				reqs = append(reqs, benchReq{user: u, fp: k.Fingerprint, model: user{u}})
			}
		}
		if added, errs, err := s.Import(recs); err != nil || len(errs) > 0 || added != len(recs) {
			b.Fatalf("Import: %d added, %v", added, errs)
		}
	}
	b.Logf("built a store of %d keys in %v", n, time.Since(start).Round(time.Second))
	return reqs
}

func benchGit(b *testing.B, git string, args ...string) {
	b.Helper()
	cmd := exec.Command(git, args...)
	cmd.Env = []string{"PATH=" + shim.SafePath, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + b.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
}
