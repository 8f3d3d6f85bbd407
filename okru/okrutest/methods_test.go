package okrutest

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

func TestUsersMethods(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 5})
	c := demoCaller(s, circuitClient)
	demo := s.DemoUser()
	g := s.graph

	t.Run("getLoggedInUser answers the uid as a string", func(t *testing.T) {
		a := c.call(t, "users.getLoggedInUser", nil)
		if string(a.body) != strconv.Quote(demo.UID)+"\n" {
			t.Fatalf("got %s", a.body)
		}
	})
	t.Run("getCurrentUser filters fields", func(t *testing.T) {
		got := result[map[string]any](t, c, "users.getCurrentUser", map[string]string{"fields": "FIRST_NAME,gender"})
		want := map[string]any{"uid": demo.UID, "first_name": demo.FirstName, "gender": g.users[demoIndex].gender}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		all := result[map[string]any](t, c, "users.getCurrentUser", nil)
		for _, f := range []string{"uid", "first_name", "last_name", "name", "gender", "age", "birthday", "locale", "location"} {
			if _, ok := all[f]; !ok {
				t.Errorf("default fields lack %s: %v", f, all)
			}
		}
	})
	t.Run("getInfo keeps exact ids, order and skips unknown ids", func(t *testing.T) {
		big := g.users[3].uid // index 3 has an id above 2^53
		uids := big + ",111111111111," + demo.UID + "," + big
		a := c.call(t, "users.getInfo", map[string]string{"uids": uids, "fields": "name,age,location"})
		var got []map[string]json.RawMessage
		a.decode(t, &got)
		if len(got) != 2 || string(got[0]["uid"]) != strconv.Quote(big) || string(got[1]["uid"]) != strconv.Quote(demo.UID) {
			t.Fatalf("got %s", a.body)
		}
		if keys := slices.Sorted(maps.Keys(got[0])); !reflect.DeepEqual(keys, []string{"age", "location", "name", "uid"}) {
			t.Errorf("fields %v", keys)
		}
		if string(got[0]["name"]) != strconv.Quote(g.users[3].name()) || string(got[0]["age"]) != strconv.Itoa(g.users[3].age()) {
			t.Errorf("user 3 = %s", a.body)
		}
	})
	t.Run("getInfo rejects a malformed id", func(t *testing.T) {
		checkErrorAnswer(t, c.call(t, "users.getInfo", map[string]string{"uids": "12x", "fields": "name"}), okru.CodeParam, "uids")
	})
	t.Run("isAppUser", func(t *testing.T) {
		for i := range int32(20) {
			got := result[bool](t, c, "users.isAppUser", map[string]string{"uid": g.users[i].uid})
			if got != g.users[i].appUser {
				t.Errorf("user %d: isAppUser %v", i, got)
			}
		}
	})
	t.Run("getCallsLeft", func(t *testing.T) {
		got := result[[]callsLeftJSON](t, c, "users.getCallsLeft", map[string]string{"methods": "friends.get,no.such"})
		want := []callsLeftJSON{{"friends.get", true, -1}, {"no.such", false, 0}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

func TestFriendsMethods(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 6})
	c := demoCaller(s, circuitServer)
	g := s.graph
	friends := result[[]string](t, c, "friends.get", nil)
	if !reflect.DeepEqual(friends, g.idStrings(g.friends[demoIndex])) || len(friends) < demoFixedFriends {
		t.Fatalf("friends.get = %v", friends)
	}
	// The demo user's friend with the most friends in common.
	best, bestN := int32(1), -1
	for _, f := range g.friends[demoIndex] {
		n := 0
		for _, x := range g.friends[f] {
			if g.areFriends(demoIndex, x) {
				n++
			}
		}
		if n > bestN {
			best, bestN = f, n
		}
	}
	if bestN < 2 {
		t.Fatalf("seed gives the demo user at most %d mutual friends with anyone; pick another seed", bestN)
	}
	other := g.users[best].uid
	theirs := result[[]string](t, c, "friends.get", map[string]string{"fid": other})
	if !slices.Contains(theirs, s.DemoUser().UID) {
		t.Fatal("friendship is not symmetric over the API")
	}

	t.Run("getMutualFriends is the intersection", func(t *testing.T) {
		var want []string
		for _, f := range friends {
			if slices.Contains(theirs, f) {
				want = append(want, f)
			}
		}
		got := result[[]string](t, c, "friends.getMutualFriends", map[string]string{"target_id": other})
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		got = result[[]string](t, c, "friends.getMutualFriends", map[string]string{"target_id": other, "count": "1"})
		if !slices.Equal(got, want[:1]) {
			t.Fatalf("count=1: got %v", got)
		}
	})
	t.Run("getOnline", func(t *testing.T) {
		all := result[[]string](t, c, "friends.getOnline", nil)
		web := result[[]string](t, c, "friends.getOnline", map[string]string{"online": "web"})
		var wantAll, wantWeb []string
		for _, f := range g.friends[demoIndex] {
			switch g.users[f].online {
			case "web":
				wantWeb = append(wantWeb, g.users[f].uid)
				fallthrough
			case "mobile":
				wantAll = append(wantAll, g.users[f].uid)
			}
		}
		if !slices.Equal(all, wantAll) || !slices.Equal(web, wantWeb) {
			t.Fatalf("online %v web %v, want %v %v", all, web, wantAll, wantWeb)
		}
	})
	t.Run("getAppUsers", func(t *testing.T) {
		got := result[map[string][]string](t, c, "friends.getAppUsers", nil)
		var want []string
		for _, f := range g.friends[demoIndex] {
			if g.users[f].appUser {
				want = append(want, g.users[f].uid)
			}
		}
		if !slices.Equal(got["uids"], want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

func TestGroupMembersPaging(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 9, Users: 1000})
	c := demoCaller(s, circuitClient)
	gr := s.graph.groups[0]
	var want []string
	for _, m := range gr.members {
		want = append(want, s.graph.users[m.user].uid)
	}

	type membersPage struct {
		Members []struct {
			UserID string `json:"userId"`
		} `json:"members"`
		Anchor  string `json:"anchor"`
		HasMore bool   `json:"has_more"`
	}
	walk := func(t *testing.T, direction string, count int) ([]string, int) {
		var got []string
		pages := 0
		params := map[string]string{"uid": gr.gid, "count": strconv.Itoa(count), "direction": direction}
		for {
			p := result[membersPage](t, c, "group.getMembers", params)
			pages++
			var ids []string
			for _, m := range p.Members {
				ids = append(ids, m.UserID)
			}
			if direction == "BACKWARD" {
				got = append(ids, got...)
			} else {
				got = append(got, ids...)
			}
			if !p.HasMore {
				return got, pages
			}
			if pages > 1000 {
				t.Fatal("paging does not end")
			}
			params["anchor"] = p.Anchor
		}
	}
	for _, dir := range []string{"FORWARD", "BACKWARD"} {
		t.Run(dir, func(t *testing.T) {
			got, pages := walk(t, dir, 37)
			if pages < 3 {
				t.Errorf("%d pages for %d members", pages, len(want))
			}
			// Same list in the same order: no duplicate, no gap.
			if !slices.Equal(got, want) {
				t.Fatalf("paged %d members, want %d in join order", len(got), len(want))
			}
		})
	}
	t.Run("statuses filter", func(t *testing.T) {
		p := result[membersPage](t, c, "group.getMembers", map[string]string{"uid": gr.gid, "statuses": "ADMIN,MODERATOR", "count": "100"})
		if len(p.Members) != 3 || p.HasMore || p.Members[0].UserID != want[0] {
			t.Fatalf("admins and moderators: %+v", p)
		}
	})
	t.Run("foreign anchor", func(t *testing.T) {
		first := result[membersPage](t, c, "group.getMembers", map[string]string{"uid": gr.gid, "count": "5"})
		a := c.call(t, "group.getMembers", map[string]string{"uid": s.graph.groups[1].gid, "anchor": first.Anchor})
		checkErrorAnswer(t, a, okru.CodeParam, "anchor")
		a = c.call(t, "group.getMembers", map[string]string{"uid": gr.gid, "anchor": "garbage!"})
		checkErrorAnswer(t, a, okru.CodeParam, "anchor")
	})
	t.Run("count out of range", func(t *testing.T) {
		checkErrorAnswer(t, c.call(t, "group.getMembers", map[string]string{"uid": gr.gid, "count": "0"}), okru.CodeParam, "count")
	})
}

func TestGroupMethods(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 10})
	c := demoCaller(s, circuitServer)
	g := s.graph

	t.Run("getUserGroupsV2 pages the user's groups", func(t *testing.T) {
		var got []string
		params := map[string]string{"count": "2"}
		for {
			var p struct {
				Groups []struct {
					GroupID string `json:"groupId"`
					UserID  string `json:"userId"`
				} `json:"groups"`
				Anchor  string `json:"anchor"`
				HasMore bool   `json:"has_more"`
			}
			c.call(t, "group.getUserGroupsV2", params).decode(t, &p)
			for _, gr := range p.Groups {
				if gr.UserID != s.DemoUser().UID {
					t.Fatalf("userId %s", gr.UserID)
				}
				got = append(got, gr.GroupID)
			}
			if !p.HasMore {
				break
			}
			params["anchor"] = p.Anchor
		}
		var want []string
		for _, gi := range g.userGroups[demoIndex] {
			want = append(want, g.groups[gi].gid)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("getInfo", func(t *testing.T) {
		gr := g.groups[4] // index 4 has an id above 2^53
		got := result[[]map[string]any](t, c, "group.getInfo", map[string]string{"uids": gr.gid + ",1", "fields": "name,members_count,shortname"})
		want := []map[string]any{{"uid": gr.gid, "name": gr.name, "members_count": float64(len(gr.members)), "shortname": gr.shortname}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("getCounters counts posted topics", func(t *testing.T) {
		gr := g.groups[0]
		counters := func() map[string]int {
			return result[map[string]map[string]int](t, c, "group.getCounters", map[string]string{"group_id": gr.gid, "counterTypes": "members,THEMES,moderators,photo_albums,PHOTOS"})["counters"]
		}
		albums, photos, themes := 0, 0, 0
		for _, a := range g.albums {
			if a.group == 0 {
				albums++
				photos += a.photos
			}
		}
		for _, tp := range g.topics {
			if tp.group == 0 {
				themes++
			}
		}
		before := counters()
		want := map[string]int{"members": len(gr.members), "moderators": 3, "themes": themes, "photo_albums": albums, "photos": photos}
		if !reflect.DeepEqual(before, want) || albums == 0 {
			t.Fatalf("counters %v, want %v", before, want)
		}
		result[string](t, c, "mediatopic.post", map[string]string{
			"type": "GROUP_THEME", "gid": gr.gid, "attachment": `{"media":[{"type":"text","text":"hi"}]}`,
		})
		if after := counters(); after["themes"] != before["themes"]+1 {
			t.Fatalf("themes %d after a post, want %d", after["themes"], before["themes"]+1)
		}
		checkErrorAnswer(t, c.call(t, "group.getCounters", map[string]string{"group_id": gr.gid, "counterTypes": "presents"}), okru.CodeParam, "counterTypes")
	})
}

func TestMediatopic(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Config{Seed: 11, Now: clock.Now})
	c := demoCaller(s, circuitServer)
	g := s.graph
	demo := s.DemoUser()
	member := g.groups[0]
	var stranger group // a group the demo user is not in
	for _, gr := range g.groups {
		if !gr.isMember(demoIndex) {
			stranger = gr
			break
		}
	}

	attachment := `{"media":[{"type":"text","text":"Привет"},{"type":"link","url":"https://example.org/a?b=c"},` +
		`{"type":"poll","question":"Да?","answers":[{"text":"Да"},{"text":"Нет"}],"options":"SingleChoice"}]}`
	userTopic := result[string](t, c, "mediatopic.post", map[string]string{"type": "USER", "attachment": attachment})
	groupTopic := result[string](t, c, "mediatopic.post", map[string]string{"type": "GROUP_THEME", "gid": member.gid, "attachment": attachment})
	seeded := g.topics[0]

	got := result[struct {
		Topics []mediaTopicJSON `json:"media_topics"`
	}](t, c, "mediatopic.getByIds", map[string]string{"topic_ids": userTopic + ",999," + groupTopic + "," + seeded.id, "media_limit": "2"})
	if len(got.Topics) != 3 {
		t.Fatalf("got %d topics, want 3: %+v", len(got.Topics), got)
	}
	wantRefs := [][2]string{{"user:" + demo.UID, userTopic}, {"group:" + member.gid, groupTopic}, {g.ownerRef(seeded), seeded.id}}
	for i, tp := range got.Topics {
		if tp.OwnerRef != wantRefs[i][0] || tp.ID != wantRefs[i][1] {
			t.Errorf("topic %d: %+v, want %v", i, tp, wantRefs[i])
		}
	}
	if len(got.Topics[0].Media) != 2 || got.Topics[0].CreatedMS != clock.Now().UnixMilli() || got.Topics[0].AuthorRef != "user:"+demo.UID {
		t.Errorf("posted topic %+v", got.Topics[0])
	}

	// Posted topics are state: Reset forgets them, the seeded ones stay.
	s.Reset()
	after := result[map[string][]mediaTopicJSON](t, c, "mediatopic.getByIds", map[string]string{"topic_ids": userTopic + "," + seeded.id})
	if len(after["media_topics"]) != 1 || after["media_topics"][0].ID != seeded.id {
		t.Fatalf("after Reset: %+v", after)
	}

	bad := []struct {
		name   string
		params map[string]string
		code   okru.Code
		msgHas string
	}{
		{"attachment not JSON", map[string]string{"type": "USER", "attachment": "{"}, okru.CodeParam, "attachment"},
		{"no media", map[string]string{"type": "USER", "attachment": `{"media":[]}`}, okru.CodeParam, "media"},
		{"empty text", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"text","text":""}]}`}, okru.CodeParam, "text"},
		{"relative link", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"link","url":"/x"}]}`}, okru.CodeParam, "url"},
		{"unknown media", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"hologram"}]}`}, okru.CodeParam, "hologram"},
		{"group without gid", map[string]string{"type": "GROUP_THEME", "attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodeParam, "gid"},
		{"not a member", map[string]string{"type": "GROUP_THEME", "gid": stranger.gid, "attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodePermissionDenied, "member"},
		{"unknown group", map[string]string{"type": "GROUP_THEME", "gid": "1", "attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodeParamGroupID, "1"},
		{"as someone else", map[string]string{"type": "USER", "uid": g.users[1].uid, "attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodePermissionDenied, "own user"},
		{"bad boolean", map[string]string{"type": "USER", "hidden_post": "yes", "attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodeParam, "hidden_post"},
		{"missing type", map[string]string{"attachment": `{"media":[{"type":"text","text":"x"}]}`}, okru.CodeParam, "type"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			checkErrorAnswer(t, c.call(t, "mediatopic.post", tc.params), tc.code, tc.msgHas)
		})
	}
	if n := len(s.topics.byID); n != 0 {
		t.Errorf("%d topics created by failed posts", n)
	}
}

func TestURLGetInfo(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 12})
	// url.getInfo needs a session from an external application such as
	// the sandbox's (method-rules.tsv).
	c := demoCaller(s, circuitServer)
	g := s.graph
	uid, gr := g.users[3].uid, g.groups[0]
	var groupTopic, userTopic topic
	for _, tp := range g.topics {
		if tp.group == 0 && groupTopic.id == "" {
			groupTopic = tp
		}
		if tp.user >= 0 && userTopic.id == "" {
			userTopic = tp
		}
	}
	tests := []struct{ url, typ, id string }{
		{"https://ok.ru/profile/" + uid, "PROFILE", uid},
		{"https://m.ok.ru/profile/" + uid + "/", "PROFILE", uid},
		{"https://ok.ru/group/" + gr.gid, "GROUP", gr.gid},
		{"https://ok.ru/group" + gr.gid, "GROUP", gr.gid},
		{"https://ok.ru/" + gr.shortname, "GROUP", gr.gid},
		{"https://ok.ru/group/" + gr.gid + "/topic/" + groupTopic.id, "GROUP_TOPIC", groupTopic.id},
		{"https://ok.ru/profile/" + g.users[userTopic.user].uid + "/statuses/" + userTopic.id, "USER_TOPIC", userTopic.id},
		{"https://ok.ru/profile/123456789012", "UNKNOWN", ""},
		{"https://ok.ru/group/" + gr.gid + "/topic/1", "UNKNOWN", ""},
		{"https://example.org/profile/" + uid, "UNKNOWN", ""},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			got := result[map[string]string](t, c, "url.getInfo", map[string]string{"url": tc.url})
			want := map[string]string{"type": tc.typ}
			if tc.id != "" {
				want["objectId"] = tc.id
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("not a URL", func(t *testing.T) {
		checkErrorAnswer(t, c.call(t, "url.getInfo", map[string]string{"url": "profile"}), okru.CodeParam, "url")
	})
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Config{Seed: 13, TokenTTL: time.Hour, Now: clock.Now})
	uid := s.DemoUser().UID
	short := tokenCaller(s, s.IssueToken(uid, "VALUABLE_ACCESS"), circuitServer)
	long := tokenCaller(s, s.IssueToken(uid, "VALUABLE_ACCESS", "LONG_ACCESS_TOKEN"), circuitServer)
	touched := tokenCaller(s, s.IssueToken(uid, "VALUABLE_ACCESS"), circuitClient)

	for range 3 {
		clock.Add(40 * time.Minute) // each step is within the TTL of the last use
		result[[]string](t, long, "friends.get", nil)
		result[bool](t, touched, "auth.touchSession", nil)
	}
	checkErrorAnswer(t, short.call(t, "friends.get", nil), okru.CodeParamSessionExpired, "expired")
	result[[]string](t, long, "friends.get", nil)    // slid with each use
	result[[]string](t, touched, "friends.get", nil) // extended by touchSession
	clock.Add(2 * time.Hour)
	checkErrorAnswer(t, long.call(t, "friends.get", nil), okru.CodeParamSessionExpired, "")
	checkErrorAnswer(t, touched.call(t, "auth.touchSession", nil), okru.CodeParamSessionExpired, "")
	checkErrorAnswer(t, appCaller(s).call(t, "auth.touchSession", nil), okru.CodeSessionRequired, "")
}

// TestSandboxRequiredOnlyWhereCatalogSilent: the sandbox enforces the
// catalog's required parameters and no others; an emulation names its own
// only for methods whose catalog row lists no parameters (auth.login,
// batch.executeV2).
func TestSandboxRequiredOnlyWhereCatalogSilent(t *testing.T) {
	t.Parallel()
	for name, spec := range methodTable {
		cat, known := okru.LookupMethod(name)
		if len(spec.required) > 0 && known && len(cat.Params) > 0 {
			t.Errorf("%s: the emulation requires %v, but the catalog lists its parameters: put required ones in okru/data/method-rules.tsv", name, spec.required)
		}
	}
}
