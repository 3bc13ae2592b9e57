package listener

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLimiterPerSource(t *testing.T) {
	l := newLimiter(100, 2)
	a1 := l.acquire("10.0.0.1", func() {}, 0)
	a2 := l.acquire("10.0.0.1", func() {}, 0)
	if a1 == nil || a2 == nil {
		t.Fatal("first two connections from one source refused")
	}
	if l.acquire("10.0.0.1", func() {}, 0) != nil {
		t.Fatal("third connection from one source admitted with per-source limit 2")
	}
	if l.acquire("10.0.0.2", func() {}, 0) == nil {
		t.Fatal("another source refused")
	}
	a1.release()
	a1.release() // twice is harmless
	if total, from := l.counts("10.0.0.1"); total != 2 || from != 1 {
		t.Fatalf("counts after release = %d, %d, want 2, 1", total, from)
	}
	if l.acquire("10.0.0.1", func() {}, 0) == nil {
		t.Fatal("released (authenticated) connection still counts")
	}
}

func TestLimiterOverallEvictsOldest(t *testing.T) {
	l := newLimiter(3, 10)
	evicted := map[int]bool{}
	var tickets []*ticket
	for i := range 5 {
		tk := l.acquire(fmt.Sprintf("10.0.0.%d", i), func() { evicted[i] = true }, 0)
		if tk == nil {
			t.Fatalf("connection %d refused; overall limit evicts, it does not refuse", i)
		}
		tickets = append(tickets, tk)
	}
	if !evicted[0] || !evicted[1] || evicted[2] || evicted[3] || evicted[4] {
		t.Fatalf("evicted = %v, want the two oldest", evicted)
	}
	if total, _ := l.counts(""); total != 3 {
		t.Fatalf("pending = %d, want 3", total)
	}
	tickets[0].release() // evicted: a no-op
	if total, from := l.counts("10.0.0.0"); total != 3 || from != 0 {
		t.Fatalf("counts = %d, %d, want 3, 0", total, from)
	}
	for _, tk := range tickets {
		tk.release()
	}
	if total, _ := l.counts(""); total != 0 || len(l.bySource) != 0 {
		t.Fatalf("after release: pending %d, sources %v", total, l.bySource)
	}
}

func TestLimiterBoundedUnderFlood(t *testing.T) {
	l := newLimiter(20, 5)
	for i := range 10000 {
		l.acquire(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), func() {}, 0)
		l.acquire("192.0.2.1", func() {}, 0)
	}
	if total, from := l.counts("192.0.2.1"); total > 20 || from > 5 || len(l.bySource) > 20 {
		t.Fatalf("pending %d, from one source %d, sources %d: not bounded", total, from, len(l.bySource))
	}
}

func TestLimiterSetLimits(t *testing.T) {
	l := newLimiter(10, 1)
	l.acquire("a", func() {}, 0)
	if l.acquire("a", func() {}, 0) != nil {
		t.Fatal("over per-source limit")
	}
	l.setLimits(10, 2)
	if l.acquire("a", func() {}, 0) == nil {
		t.Fatal("raised per-source limit not applied")
	}
}

func TestLimiterSourceWaitsForItsTurn(t *testing.T) {
	l := newLimiter(10, 1)
	first := l.acquire("a", func() {}, 0)
	got := make(chan *ticket)
	go func() { got <- l.acquire("a", func() {}, 5*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	first.release() // authenticated: the waiting connection goes next
	select {
	case tk := <-got:
		if tk == nil {
			t.Fatal("waiting connection refused after a place freed up")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting connection not admitted")
	}
	start := time.Now()
	if l.acquire("a", func() {}, 100*time.Millisecond) != nil {
		t.Fatal("admitted over the per-source limit")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("waited %v, want about 100ms", d)
	}
}

func TestLimiterWaitersBounded(t *testing.T) {
	l := newLimiter(1, 1)
	l.acquire("a", func() {}, 0)
	var wg sync.WaitGroup
	refused := make(chan bool, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refused <- l.acquire("a", func() {}, 300*time.Millisecond) == nil
		}()
	}
	wg.Wait()
	close(refused)
	n := 0
	for r := range refused {
		if r {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("%d of 10 refused, want all (none frees a place)", n)
	}
	if l.waiting != 0 {
		t.Fatalf("waiting = %d after all gave up", l.waiting)
	}
}
