// Package maintain keeps repositories fast after many pushes: it looks
// at what a repository holds (loose objects, packs), decides which of
// git's incremental maintenance tasks it needs, and runs them, with a
// full gc spread over about a week. It never prunes recent objects
// (git gc's default two-week expiry, never --prune=now) and turns git's
// own gc --auto off for the repositories it maintains, so that a push
// never pays for a repack.
package maintain

import (
	"hash/fnv"
	"time"
)

// Thresholds of Decide.
const (
	// LooseLimit is the number of loose objects that makes a repository
	// need its loose objects packed (git gc --auto's is 6700; pushes of
	// fewer than 100 objects arrive loose, unpacked).
	LooseLimit = 100
	// PackLimit is the number of packs beyond which packs are rolled up
	// geometrically (each push of 100 objects or more adds a pack).
	PackLimit = 2
	// FullEvery is how often a full gc runs, give or take Spread.
	FullEvery = 7 * 24 * time.Hour
	// Spread shifts each repository's full gc by up to this, by its
	// name, so that they do not all fall due in the same hour.
	Spread = 24 * time.Hour
)

// State is what a repository holds now, and when it was last maintained.
type State struct {
	Loose    int       // loose objects
	Packs    int       // packs
	LooseRef int       // loose refs
	Last     time.Time // last maintenance; zero if never
	LastFull time.Time // last full gc; zero if never
}

// Task is one thing to run.
type Task string

// The tasks, in the order they run.
const (
	PackLoose   Task = "loose-objects"    // pack the loose objects
	Geometric   Task = "geometric-repack" // roll packs up, with a multi-pack index and bitmaps
	CommitGraph Task = "commit-graph"     // write the commit-graph
	PackRefs    Task = "pack-refs"        // pack loose refs
	FullGC      Task = "gc"               // git gc, default expiry
	GitAutoOff  Task = "turn-off-auto-gc" // gc.auto=0, maintenance.auto=false
	looseRefMax      = 50                 // loose refs before pack-refs
)

// Decide returns what a repository named name in state st needs at now,
// nothing when it is in shape. A full gc replaces the incremental tasks.
func Decide(name string, st State, now time.Time, force bool) []Task {
	var tasks []Task
	if st.Last.IsZero() {
		tasks = append(tasks, GitAutoOff)
	}
	if force || fullDue(name, st, now) {
		return append(tasks, FullGC, CommitGraph)
	}
	changed := false
	if st.Loose >= LooseLimit {
		tasks, changed = append(tasks, PackLoose), true
	}
	if st.Packs > PackLimit {
		tasks, changed = append(tasks, Geometric), true
	}
	if changed {
		tasks = append(tasks, CommitGraph)
	}
	if st.LooseRef >= looseRefMax {
		tasks = append(tasks, PackRefs)
	}
	return tasks
}

// fullDue: the last full gc (or, before the first, the first
// maintenance) was FullEvery plus this repository's share of Spread ago.
func fullDue(name string, st State, now time.Time) bool {
	base := st.LastFull
	if base.IsZero() {
		base = st.Last
	}
	if base.IsZero() {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	offset := time.Duration(h.Sum32()%uint32(Spread/time.Minute)) * time.Minute
	return now.Sub(base) >= FullEvery+offset
}
