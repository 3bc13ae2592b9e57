package lfs

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLockProtocol(t *testing.T) {
	repo := t.TempDir()
	alice := startSession(t, repo, Upload, "alice", false)
	alice.version()
	got := alice.do("lock", "path=art/hero.bin", "refname=refs/heads/main", "")
	if status(got) != "status 201" || len(got) != 5 || !strings.HasPrefix(got[1], "id=") ||
		got[2] != "path=art/hero.bin" || got[3] != "locked-at=2026-12-02T10:00:00Z" || got[4] != "ownername=alice" {
		t.Fatalf("lock = %q", got)
	}
	id := strings.TrimPrefix(got[1], "id=")

	bob := startSession(t, repo, Upload, "bob", false)
	bob.version()
	if got := bob.do("lock", "path=art/hero.bin", ""); status(got) != "status 409" || got[1] != "id="+id || got[4] != "ownername=alice" {
		t.Fatalf("bob's lock of a locked path = %q, want 409 naming alice's lock", got)
	}
	got = bob.do("list-lock", "refspec=refs/heads/main", "")
	want := []string{"status 200", "|", "lock " + id, "path " + id + " art/hero.bin", "locked-at " + id + " 2026-12-02T10:00:00Z", "ownername " + id + " alice", "owner " + id + " theirs"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bob's list-lock = %q, want %q", got, want)
	}
	if got := alice.do("list-locks", ""); got[len(got)-1] != "owner "+id+" ours" {
		t.Fatalf("alice's list-locks (git-lfs 3.3) = %q", got)
	}
	if got := bob.do("unlock "+id, ""); status(got) != "status 403" {
		t.Fatalf("bob's unlock of alice's lock = %q", got)
	}
	if got := bob.do("unlock "+id, "force=true", ""); status(got) != "status 403" || !strings.Contains(got[2], "admin") {
		t.Fatalf("bob's forced unlock (no admin) = %q", got)
	}
	reader := startSession(t, repo, Download, "carol", false)
	reader.version()
	if got := reader.do("lock", "path=x", ""); status(got) != "status 403" {
		t.Fatalf("lock on a download session = %q", got)
	}
	if got := reader.do("list-lock", ""); len(got) != 6 {
		t.Fatalf("download list-lock = %q, want no owner line", got)
	}
	admin := startSession(t, repo, Upload, "root", true)
	admin.version()
	if got := admin.do("unlock "+id, "force=true", ""); status(got) != "status 200" || got[1] != "id="+id {
		t.Fatalf("admin's forced unlock = %q", got)
	}
	if got := alice.do("unlock "+id, ""); status(got) != "status 404" {
		t.Fatalf("unlock of a removed lock = %q", got)
	}
	for _, c := range []*tclient{alice, bob, reader, admin} {
		c.quit()
	}
}

func TestListLocksPages(t *testing.T) {
	repo := t.TempDir()
	l := NewLocks(repo)
	for i := range 25 {
		if _, err := l.Create(fmt.Sprintf("f%02d", i), "alice", "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	c := startSession(t, repo, Download, "bob", false)
	c.version()
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		args := []string{"list-lock", "limit=10"}
		if cursor != "" {
			args = append(args, "cursor="+cursor)
		}
		got := c.do(append(args, "")...)
		cursor = ""
		for _, line := range got {
			if v, ok := strings.CutPrefix(line, "next-cursor="); ok {
				cursor = v
			}
			if v, ok := strings.CutPrefix(line, "path "); ok {
				p := v[strings.IndexByte(v, ' ')+1:]
				if seen[p] {
					t.Fatalf("%s listed twice", p)
				}
				seen[p] = true
			}
		}
		if cursor == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
	}
	if len(seen) != 25 {
		t.Fatalf("listed %d locks, want 25", len(seen))
	}
	c.quit()
}

func TestConcurrentLocksOneWinner(t *testing.T) {
	repo := t.TempDir()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := NewLocks(repo).Create("shared.psd", fmt.Sprint("u", i), "", time.Now())
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if _, ok := err.(*ConflictError); !ok {
				t.Errorf("Create: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d winners, want 1", won)
	}
}
