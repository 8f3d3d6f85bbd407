package engine

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// Shard is one of Count shares of a run: N jobs of a CI matrix, each run
// with its own Shard 1/N ... N/N, together do every for_each instance
// exactly once.
//
// An instance belongs to shard hash(id) mod Count + 1, where id is the
// instance's key for a map, object or set, and its element's value (not
// its index) for a list: jobs that each read the list from the API a few
// seconds apart then still agree on most instances when an element was
// added or removed in between, where indexes would all shift. Equal
// elements of a list share a shard.
//
// Steps without for_each are not split. The instances of a module with
// for_each are split as a step's instances are: all the nodes of one
// instance run in one shard, and module.NAME holds the instances of the
// shard that computes it. A read runs in every shard: it is
// usually what a for_each is computed from. A write or a script runs only
// in shard 1, so that it happens once; in the other shards it is skipped,
// and so are the steps that use it.
//
// In a sharded run the instances of other shards are like instances whose
// when is false: not called, and null in call.NAME.
type Shard struct {
	Index int // from 1
	Count int // 0 or 1: not sharded
}

// ParseShard reads a shard as "I/N", with 1 <= I <= N. Its errors do not
// quote s, which may be a value typed in the wrong place.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, ierr := strconv.Atoi(strings.TrimSpace(is))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || ierr != nil || nerr != nil {
		return Shard{}, errors.New("want I/N, such as 2/4 (the second of four jobs)")
	}
	if n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %d/%d is out of range: I/N needs 1 <= I <= N", i, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N", or "" for a run that is not sharded.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Sharded reports whether the run does only a share of the work.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Of returns the shard, from 1, that an instance with this shard id
// belongs to (see ShardID).
func (s Shard) Of(id string) int {
	if !s.Sharded() {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return int(h.Sum64()%uint64(s.Count)) + 1
}

// ShardID is what decides the shard of a for_each instance: its key for
// a map, object or set, its element's value as JSON for a list.
func ShardID(key, value cty.Value) string {
	if key.Type() == cty.String {
		return "k:" + key.AsString()
	}
	return "v:" + string(lang.DisplayJSON(value))
}

// runs reports whether the shard runs the nodes of a scope: a module
// instance of a for_each belongs to one shard, as a step's instance does
// (see scope.shardID); in the others, it is as if it did not exist.
func (s Shard) runs(sc *scope) bool {
	return !s.Sharded() || sc.shardID == "" || s.Of(sc.shardID) == s.Index
}

// skips reports why a step without for_each does not run in this shard:
// writes and scripts run only in shard 1, unless they belong to a module
// instance of a for_each, which the shard owns (see runs).
func (s Shard) skips(n *node) (string, bool) {
	if !s.Sharded() || s.Index == 1 || n.step.ForEach != nil || n.scope.shardID != "" {
		return "", false
	}
	switch {
	case n.step.Script != nil:
		return fmt.Sprintf("runs in shard 1 of %d only: a script may change things", s.Count), true
	case n.step.Upload != nil:
		return fmt.Sprintf("runs in shard 1 of %d only: an upload is a write", s.Count), true
	case n.step.Call != nil && !okru.IsReadOnly(n.step.Call.Method):
		return fmt.Sprintf("runs in shard 1 of %d only: %s is a write", s.Count, n.step.Call.Method), true
	}
	return "", false
}
