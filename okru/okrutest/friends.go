package okrutest

import (
	"context"
	"fmt"
	"slices"
)

func init() {
	registerMethod("friends.get", methodSpec{handle: friendsGet})
	registerMethod("friends.getOnline", methodSpec{handle: friendsGetOnline})
	registerMethod("friends.getMutualFriends", methodSpec{handle: friendsGetMutual})
	registerMethod("friends.getAppUsers", methodSpec{handle: friendsGetAppUsers})
}

// friendsGet answers the friends of fid (or uid, or the session user) as an
// array of id strings.
func friendsGet(_ context.Context, inv *invocation) (any, error) {
	u, err := inv.subject("fid", "uid")
	if err != nil {
		return nil, err
	}
	g := inv.graph()
	return g.idStrings(g.friends[u]), nil
}

// friendsGetOnline answers the friends online now, optionally only those on
// the platforms listed in online ("web", "mobile").
func friendsGetOnline(_ context.Context, inv *invocation) (any, error) {
	u, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	want := map[string]bool{"web": true, "mobile": true}
	if kinds := inv.list("online"); len(kinds) > 0 {
		want = map[string]bool{}
		for _, k := range kinds {
			if k != "web" && k != "mobile" {
				return nil, invalidParam("online", fmt.Sprintf("%q is not web or mobile", k))
			}
			want[k] = true
		}
	}
	g := inv.graph()
	out := []string{}
	for _, f := range g.friends[u] {
		if want[g.users[f].online] {
			out = append(out, g.users[f].uid)
		}
	}
	return out, nil
}

// friendsGetMutual answers the friends source_id (or the session user) and
// target_id have in common, at most count of them.
func friendsGetMutual(_ context.Context, inv *invocation) (any, error) {
	src, err := inv.subject("source_id")
	if err != nil {
		return nil, err
	}
	dst, err := inv.userByID("target_id", inv.param("target_id"))
	if err != nil {
		return nil, err
	}
	count, err := inv.intParam("count", 1000, 1, 1000)
	if err != nil {
		return nil, err
	}
	g := inv.graph()
	out := []string{}
	for _, f := range g.friends[src] {
		if len(out) == count {
			break
		}
		if _, ok := slices.BinarySearch(g.friends[dst], f); ok {
			out = append(out, g.users[f].uid)
		}
	}
	return out, nil
}

// friendsGetAppUsers answers {"uids": [...]}: the friends who have the app.
func friendsGetAppUsers(_ context.Context, inv *invocation) (any, error) {
	u, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	g := inv.graph()
	out := []string{}
	for _, f := range g.friends[u] {
		if g.users[f].appUser {
			out = append(out, g.users[f].uid)
		}
	}
	return map[string][]string{"uids": out}, nil
}
