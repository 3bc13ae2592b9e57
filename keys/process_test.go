package keys

// Tests with several processes on one store. The test binary re-executes
// itself (os.Args[0] -test.run=^TestHelperProcess$) with KEYS_HELPER set.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestHelperProcess is not a test: it is the child of the tests below.
//
//	KEYS_HELPER=add  adds KEYS_COUNT keys from KEYS_FIRST, one Add each
//	KEYS_HELPER=loop adds 1 to 5 keys per Add from KEYS_FIRST until
//	                 killed, printing each fingerprint once Add returned
//	KEYS_HELPER=replica applies 1 to 5 adds per ApplyReplica until
//	                 killed, printing the last id once it returned
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("KEYS_HELPER")
	if mode == "" {
		t.Skip("run only as a child of the multi-process tests")
	}
	s := Open(os.Getenv("KEYS_STORE"), Options{Timeout: 30 * time.Second})
	first, _ := strconv.Atoi(os.Getenv("KEYS_FIRST"))
	count, _ := strconv.Atoi(os.Getenv("KEYS_COUNT"))
	user := fmt.Sprintf("user%d", first)
	deadline := time.Now().Add(30 * time.Second) // never outlive a lost parent
	if mode == "replica" {
		replicaLoop(s, first, deadline)
	}
	for i := first; mode == "loop" || i < first+count; {
		n := 1
		if mode == "loop" {
			n = 1 + i%5
		}
		var recs []Record
		for j := range n {
			recs = append(recs, Record{User: user, Key: testKey(i + j)})
		}
		i += n
		if _, err := s.Add(recs); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		for _, r := range recs {
			fmt.Println(r.Key.Fingerprint)
		}
		if time.Now().After(deadline) {
			os.Exit(2)
		}
	}
	os.Exit(0)
}

// helper returns the command of a child process.
func helper(t *testing.T, mode, store string, first, count int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "KEYS_HELPER="+mode, "KEYS_STORE="+store,
		"KEYS_FIRST="+strconv.Itoa(first), "KEYS_COUNT="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	return cmd
}

// TestConcurrentWriters runs 4 processes that each add 50 keys, one Add
// at a time, to one store: no update may be lost.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newStore(t)
	const procs, each = 4, 50
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := helper(t, "add", s.Path(), 1000*(p+1), each)
		cmd.Stdout = nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	if n, err := s.Count(); n != procs*each || err != nil {
		t.Errorf("Count = %d, %v; want %d", n, err, procs*each)
	}
	for p := range procs {
		for i := range each {
			if _, err := s.Lookup(testKey(1000*(p+1) + i).Fingerprint); err != nil {
				t.Errorf("key %d of process %d: %v", i, p, err)
			}
		}
	}
}

// startLoop starts a writer loop and returns a channel of the fingerprints
// it acknowledged, closed when the child's stdout closes.
func startLoop(t *testing.T, store string, first int) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := helper(t, "loop", store, first, 0)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fps := make(chan string, 1<<16)
	go func() {
		defer close(fps)
		br := bufio.NewReader(out)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return // a line without its newline was never acknowledged
			}
			fps <- strings.TrimSuffix(line, "\n")
		}
	}()
	return cmd, fps
}

// TestKillDuringWrites kills a writer with SIGKILL while it adds keys: the
// store must open, pass bbolt's consistency check and hold every key the
// writer acknowledged.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newStore(t)
	var acked []string
	for iter := range 3 {
		cmd, fps := startLoop(t, s.Path(), 100000*(iter+1))
		<-time.After(time.Duration(150+50*iter) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		n := len(acked)
		for fp := range fps {
			acked = append(acked, fp)
		}
		_ = cmd.Wait()
		t.Logf("iteration %d: writer acknowledged %d keys before SIGKILL", iter, len(acked)-n)
		checkConsistent(t, s.Path())
		for _, fp := range acked {
			if _, err := s.Lookup(fp); err != nil {
				t.Fatalf("acknowledged key %s: Lookup = %v", fp, err)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("the writer acknowledged no key; the test proved nothing")
	}
	mustAdd(t, s, rec("alice", 1))
}

// checkConsistent runs bbolt's consistency check on the file.
func checkConsistent(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("consistency check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReaderWaitsBriefly looks a key up 200 times while another process
// adds keys in a loop. Every lookup must succeed; the waits are logged,
// not asserted, since they depend on the machine.
func TestReaderWaitsBriefly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	fp := testKey(1).Fingerprint
	cmd, fps := startLoop(t, s.Path(), 500000)
	defer func() {
		_ = cmd.Process.Kill()
		for range fps {
		}
		_ = cmd.Wait()
	}()
	<-fps // the writer is running
	var waits []time.Duration
	for i := range 200 {
		time.Sleep(time.Duration(i%7) * 300 * time.Microsecond) // spread over many transactions
		start := time.Now()
		if _, err := s.Lookup(fp); err != nil {
			t.Fatalf("Lookup during writes: %v", err)
		}
		waits = append(waits, time.Since(start))
	}
	slices.Sort(waits)
	t.Logf("200 lookups while the writer added %d keys: median %v, p95 %v, max %v",
		len(fps), waits[100], waits[190], waits[199])
}
