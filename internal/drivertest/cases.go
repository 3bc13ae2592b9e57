package drivertest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitserver/gitserver/shim"
)

func testAuthenticate(t *testing.T, d shim.Driver) {
	ctx := context.Background()
	if u, err := d.Authenticate(ctx, Alice().Credentials); err != nil || u != User {
		t.Errorf("Authenticate(alice's key) = %q, %v, want %q", u, err, User)
	}
	if u, err := d.Authenticate(ctx, Stranger().Credentials); !errors.Is(err, shim.ErrUnknownKey) {
		t.Errorf("Authenticate(stranger's key) = %q, %v, want ErrUnknownKey", u, err)
	}
}

func testUnknownUser(t *testing.T, d shim.Driver, root string) {
	if m, err := d.GetUserModel(context.Background(), UnknownUser); !errors.Is(err, shim.ErrUnknownUser) {
		t.Errorf("GetUserModel(%q) = %v, %v, want ErrUnknownUser", UnknownUser, m, err)
	}
	const cmd = "git-upload-pack 'public/hello.git'"
	_, err := plan(d, root, UnknownUser, cmd)
	wantDenied(t, cmd, err)
}

func testAllow(t *testing.T, d shim.Driver, root string) {
	real := realRoot(t, root)
	for _, tt := range []struct{ command, dir string }{
		{"git-upload-pack 'team/app.git'", "team/app.git"},
		{"git-receive-pack 'team/app.git'", "team/app.git"},
		{"git-upload-pack '/team/app'", "team/app.git"}, // ssh:// form
		{"git-upload-pack 'team/app'", "team/app.git"},
		{"git-upload-archive 'public/hello.git'", "public/hello.git"},
		{"git-upload-pack '/public/hello.git'", "public/hello.git"},
	} {
		p, err := plan(d, root, User, tt.command)
		if err != nil {
			t.Errorf("Plan(%q) = %v, want allowed", tt.command, short(err))
			continue
		}
		if want := filepath.Join(real, tt.dir); p.Dir != want {
			t.Errorf("Plan(%q).Dir = %q, want %q", tt.command, p.Dir, want)
		}
	}
}

func testDeny(t *testing.T, d shim.Driver, root string) {
	for _, cmd := range []string{
		"git-receive-pack 'public/hello.git'",
		"git-receive-pack '/public/hello'",
		"git-upload-pack 'secret/x.git'",
		"git-upload-pack 'nothere/at-all.git'",
	} {
		_, err := plan(d, root, User, cmd)
		wantDenied(t, cmd, err)
	}
	// A denial is a decision, not an error.
	ctx := context.Background()
	m, err := d.GetUserModel(ctx, User)
	if err != nil {
		t.Fatalf("GetUserModel(%q) = %v", User, err)
	}
	dec, err := d.Authorize(ctx, m, shim.ReceivePack, "public/hello.git")
	if err != nil || dec.Allow {
		t.Errorf("Authorize(alice, push, public/hello.git) = %+v, %v, want a denial without error", dec, err)
	}
}

func testEscape(t *testing.T, d shim.Driver, root string) {
	const cmd = "git-upload-pack 'escape/out.git'"
	m, err := d.GetUserModel(context.Background(), User)
	if err != nil {
		t.Fatalf("GetUserModel(%q) = %v", User, err)
	}
	if dec, err := d.Authorize(context.Background(), m, shim.UploadPack, "escape/out.git"); err != nil || !dec.Allow {
		t.Fatalf("Authorize(alice, fetch, escape/out.git) = %+v, %v; the scenario grants it", dec, err)
	}
	_, err = plan(d, root, User, cmd)
	wantDenied(t, cmd, err)
}

// testManyOps runs a login's worth of operations, twice, on one driver:
// authorized-keys and shell each make several calls.
func testManyOps(t *testing.T, d shim.Driver, root string) {
	for i := 0; i < 2; i++ {
		if u, err := d.Authenticate(context.Background(), Alice().Credentials); err != nil || u != User {
			t.Fatalf("round %d: Authenticate = %q, %v", i, u, err)
		}
		if _, err := plan(d, root, User, "git-upload-pack 'team/app.git'"); err != nil {
			t.Fatalf("round %d: Plan = %v", i, short(err))
		}
	}
}

// testFault checks that a misbehaving driver denies, in bounded time.
func testFault(t *testing.T, d shim.Driver, f Fault, root string) {
	start := time.Now()
	if f != Outside {
		u, err := d.Authenticate(context.Background(), Alice().Credentials)
		if err == nil || errors.Is(err, shim.ErrUnknownKey) {
			t.Errorf("%v: Authenticate = %q, %v, want a failure that is not ErrUnknownKey", f, u, err)
		} else {
			t.Logf("%v: Authenticate: %s", f, short(err))
		}
	}
	const cmd = "git-upload-pack 'team/app.git'"
	_, err := plan(d, root, User, cmd)
	wantDenied(t, cmd, err)
	t.Logf("%v: Plan: %s", f, short(err))
	if took := time.Since(start); took > maxFaultWait {
		t.Errorf("%v: the driver took %v to give up, want under %v", f, took, maxFaultWait)
	}
}
