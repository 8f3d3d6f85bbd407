package okrutest

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

func init() {
	registerMethod("group.getInfo", methodSpec{handle: groupGetInfo})
	registerMethod("group.getMembers", methodSpec{handle: groupGetMembers})
	registerMethod("group.getUserGroupsV2", methodSpec{handle: groupGetUserGroups})
	registerMethod("group.getCounters", methodSpec{handle: groupGetCounters})
}

// groupJSON returns the requested fields of group i; uid is always there.
func (g *graph) groupJSON(i int32, fields fieldSet) map[string]any {
	gr := &g.groups[i]
	out := map[string]any{"uid": gr.gid}
	put := func(name string, v any) {
		if fields[name] {
			out[name] = v
		}
	}
	put("name", gr.name)
	put("description", gr.description)
	put("shortname", gr.shortname)
	put("members_count", len(gr.members))
	put("created_ms", gr.created.UnixMilli())
	return out
}

// groupGetInfo answers the groups among uids that exist, in the order asked.
func groupGetInfo(_ context.Context, inv *invocation) (any, error) {
	gids := inv.list("uids")
	if len(gids) > 100 {
		return nil, invalidParam("uids", fmt.Sprintf("at most 100 ids, got %d", len(gids)))
	}
	fields := inv.fields("fields")
	g := inv.graph()
	out := make([]map[string]any, 0, len(gids))
	seen := make(map[int32]bool, len(gids))
	for _, gid := range gids {
		if !isID(gid) {
			return nil, invalidParam("uids", fmt.Sprintf("%q is not a group id", gid))
		}
		if i, ok := g.lookupGroup(gid); ok && !seen[i] {
			seen[i] = true
			out = append(out, g.groupJSON(i, fields))
		}
	}
	return out, nil
}

var memberStatuses = []string{statusActive, statusAdmin, statusModerator}

// groupGetMembers pages through a group's members in join order, optionally
// only those with the given statuses.
func groupGetMembers(_ context.Context, inv *invocation) (any, error) {
	gi, err := inv.groupByID("uid", inv.param("uid"))
	if err != nil {
		return nil, err
	}
	gr := &inv.graph().groups[gi]
	members := gr.members
	statuses := inv.list("statuses")
	if len(statuses) > 0 {
		want := map[string]bool{}
		for _, st := range statuses {
			st = strings.ToUpper(st)
			if !slices.Contains(memberStatuses, st) {
				return nil, invalidParam("statuses", fmt.Sprintf("%q is not emulated by the sandbox; use %s", st, strings.Join(memberStatuses, ", ")))
			}
			want[st] = true
		}
		members = slices.DeleteFunc(slices.Clone(members), func(m member) bool { return !want[m.status] })
		slices.Sort(statuses)
	}
	p, err := inv.anchorPage("members:"+gr.gid+":"+strings.Join(statuses, ","), len(members), 10, 1000)
	if err != nil {
		return nil, err
	}
	type memberJSON struct {
		UserID string `json:"userId"`
	}
	out := make([]memberJSON, 0, p.end-p.start)
	for _, m := range members[p.start:p.end] {
		out = append(out, memberJSON{UserID: inv.graph().users[m.user].uid})
	}
	return map[string]any{"members": out, "anchor": p.anchor, "has_more": p.hasMore}, nil
}

// groupGetUserGroups pages through the groups of uid (or the session user).
func groupGetUserGroups(_ context.Context, inv *invocation) (any, error) {
	u, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	g := inv.graph()
	groups := g.userGroups[u]
	p, err := inv.anchorPage("groups:"+g.users[u].uid, len(groups), 10, 100)
	if err != nil {
		return nil, err
	}
	type groupRefJSON struct {
		GroupID string `json:"groupId"`
		UserID  string `json:"userId"`
	}
	out := make([]groupRefJSON, 0, p.end-p.start)
	for _, gi := range groups[p.start:p.end] {
		out = append(out, groupRefJSON{GroupID: g.groups[gi].gid, UserID: g.users[u].uid})
	}
	return map[string]any{"groups": out, "anchor": p.anchor, "has_more": p.hasMore}, nil
}

// groupCounters are the counter types the sandbox can count, with the key
// ok.ru answers them under.
var groupCounters = map[string]func(inv *invocation, gi int32) int{
	"MEMBERS": func(inv *invocation, gi int32) int { return len(inv.graph().groups[gi].members) },
	"MODERATORS": func(inv *invocation, gi int32) int {
		n := 0
		for _, m := range inv.graph().groups[gi].members {
			if m.status != statusActive {
				n++
			}
		}
		return n
	},
	"THEMES": func(inv *invocation, gi int32) int {
		return inv.graph().groupTopics[gi] + inv.srv.topics.groupCount(gi)
	},
	"PHOTO_ALBUMS": func(inv *invocation, gi int32) int { return inv.graph().groupAlbums[gi] },
	"PHOTOS": func(inv *invocation, gi int32) int {
		// Seeded photos and those committed since into the group's albums,
		// as photos.getAlbums counts them.
		g, n := inv.graph(), inv.graph().groupPhotos[gi]
		for album, c := range inv.srv.photos.committedByAlbum() {
			if g.albums[album].group == gi {
				n += c
			}
		}
		return n
	},
}

// groupGetCounters answers {"counters": {"members": n, ...}} for the asked
// counter types.
func groupGetCounters(_ context.Context, inv *invocation) (any, error) {
	gi, err := inv.groupByID("group_id", inv.param("group_id"))
	if err != nil {
		return nil, err
	}
	counters := map[string]int{}
	for _, t := range inv.list("counterTypes") {
		count, ok := groupCounters[strings.ToUpper(t)]
		if !ok {
			names := make([]string, 0, len(groupCounters))
			for n := range groupCounters {
				names = append(names, n)
			}
			slices.Sort(names)
			return nil, invalidParam("counterTypes", fmt.Sprintf("%q is not emulated by the sandbox; use %s", t, strings.Join(names, ", ")))
		}
		counters[strings.ToLower(t)] = count(inv, gi)
	}
	return map[string]any{"counters": counters}, nil
}
