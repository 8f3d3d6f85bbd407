package okrutest

import (
	"reflect"
	"strconv"
	"testing"
)

func TestGraphIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := buildGraph(7, 500), buildGraph(7, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed and size built different graphs")
	}
	c := buildGraph(8, 500)
	if reflect.DeepEqual(a.users, c.users) || reflect.DeepEqual(a.friends, c.friends) {
		t.Fatal("different seeds built the same graph")
	}
}

// Two servers with one seed answer the same, over HTTP.
func TestServersWithOneSeedAgree(t *testing.T) {
	t.Parallel()
	var answers [2][]string
	for i := range answers {
		s := newTestServer(t, Config{Seed: 42, Users: 300})
		answers[i] = result[[]string](t, demoCaller(s, circuitServer), "friends.get", nil)
		if s.DemoUser().UID != s.graph.users[demoIndex].uid {
			t.Fatal("demo user is not the graph's")
		}
	}
	if !reflect.DeepEqual(answers[0], answers[1]) || len(answers[0]) == 0 {
		t.Fatalf("friends.get differs between servers with one seed: %v / %v", answers[0], answers[1])
	}
}

func TestGraphShape(t *testing.T) {
	t.Parallel()
	for _, n := range []int{MinUsers, 200, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			g := buildGraph(1, n)
			checkGraph(t, g, n)
		})
	}
}

func checkGraph(t *testing.T, g *graph, n int) {
	t.Helper()
	if len(g.users) != n || len(g.byUID) != n {
		t.Fatalf("%d users, %d distinct uids, want %d", len(g.users), len(g.byUID), n)
	}
	big := 0
	for i, u := range g.users {
		if len(u.uid) < 12 || !isID(u.uid) {
			t.Errorf("uid %q is not a 12+ digit id", u.uid)
		}
		id, _ := strconv.ParseUint(u.uid, 10, 64)
		if id > 1<<53 {
			big++
			if uint64(float64(id)) == id {
				t.Errorf("uid %s above 2^53 survives float64; it does not test exact ids", u.uid)
			}
		}
		if u.first == "" || u.last == "" || (u.gender != "male" && u.gender != "female") || u.age() < 14 {
			t.Errorf("user %d incomplete: %+v", i, u)
		}
		for _, f := range g.friends[i] {
			if int(f) == i {
				t.Errorf("user %d is their own friend", i)
			}
			if !g.areFriends(f, int32(i)) {
				t.Errorf("friendship %d-%d is not symmetric", i, f)
			}
		}
	}
	if big == 0 {
		t.Error("no uid above 2^53")
	}
	if len(g.friends[demoIndex]) < min(demoFixedFriends, n-1) {
		t.Errorf("demo user has %d friends", len(g.friends[demoIndex]))
	}
	if len(g.userGroups[demoIndex]) < demoGroups {
		t.Errorf("demo user is in %d groups", len(g.userGroups[demoIndex]))
	}
	if want := min(n, bigGroupSize); len(g.groups[0].members) != want {
		t.Errorf("group 0 has %d members, want %d", len(g.groups[0].members), want)
	}
	for gi, gr := range g.groups {
		seen := map[int32]bool{}
		for _, m := range gr.members {
			if seen[m.user] {
				t.Errorf("group %d lists user %d twice", gi, m.user)
			}
			seen[m.user] = true
		}
		if len(gr.memberIdx) != len(gr.members) || g.byGID[gr.gid] != int32(gi) || g.byShort[gr.shortname] != int32(gi) {
			t.Errorf("group %d indexes disagree", gi)
		}
	}
	if len(g.albums) == 0 || len(g.topics) == 0 {
		t.Errorf("%d albums, %d topics", len(g.albums), len(g.topics))
	}
}

// Large graphs must build quickly for benchmarks; measure, do not assert.
func BenchmarkBuildGraph(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				buildGraph(1, n)
			}
		})
	}
}
