package listener

import (
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// recorder is an Observer that writes down what it is told.
type recorder struct {
	mu      sync.Mutex
	events  []string
	lookups int
	closed  chan struct{} // one value per Closed
}

func (r *recorder) add(s string) { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }

func (r *recorder) Opened()                 { r.add("opened") }
func (r *recorder) Closed(res string)       { r.add("closed " + res); r.closed <- struct{}{} }
func (r *recorder) Authentication(a string) { r.add("auth " + a) }
func (r *recorder) KeyLookup(time.Duration) { r.mu.Lock(); r.lookups++; r.mu.Unlock() }

func (r *recorder) take() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, n := r.events, r.lookups
	r.events, r.lookups = nil, 0
	return ev, n
}

// TestObserver: a connection that authenticates, one with an unknown
// key and one with the wrong login name each report what happened, in
// order, once.
func TestObserver(t *testing.T) {
	known, unknown := newSigner(t), newSigner(t)
	d := fakeDriver{ssh.FingerprintSHA256(known.PublicKey()): "alice"}
	rec := &recorder{closed: make(chan struct{}, 4)}
	addr, _, _ := startObserved(t, d, testLimits(), rec)

	c, err := dial(t, addr, "git", ssh.PublicKeys(known))
	if err != nil {
		t.Fatal(err)
	}
	greeting(t, c)
	c.Close()
	<-rec.closed
	ev, lookups := rec.take()
	if want := []string{"opened", "auth ok", "closed ok"}; !slices.Equal(ev, want) {
		t.Errorf("known key: %q, want %q", ev, want)
	}
	if lookups < 1 {
		t.Errorf("known key: %d key lookups", lookups)
	}

	if _, err := dial(t, addr, "git", ssh.PublicKeys(unknown)); err == nil {
		t.Fatal("unknown key accepted")
	}
	<-rec.closed
	if ev, lookups := rec.take(); !slices.Equal(ev, []string{"opened", "auth unknown_key", "closed failed"}) || lookups != 1 {
		t.Errorf("unknown key: %q, %d lookups", ev, lookups)
	}

	if _, err := dial(t, addr, "root", ssh.PublicKeys(known)); err == nil {
		t.Fatal("login root accepted")
	}
	<-rec.closed
	if ev, lookups := rec.take(); !slices.Equal(ev, []string{"opened", "auth wrong_login_name", "closed failed"}) || lookups != 0 {
		t.Errorf("wrong login: %q, %d lookups", ev, lookups)
	}
}
