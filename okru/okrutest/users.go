package okrutest

import (
	"context"
	"fmt"

	"github.com/okru-run/okru-run/okru"
)

func init() {
	registerMethod("users.getCurrentUser", methodSpec{handle: usersGetCurrentUser, session: okru.SessionRequired})
	registerMethod("users.getLoggedInUser", methodSpec{handle: usersGetLoggedInUser, session: okru.SessionRequired})
	registerMethod("users.getInfo", methodSpec{handle: usersGetInfo})
	registerMethod("users.getCallsLeft", methodSpec{handle: usersGetCallsLeft})
	registerMethod("users.isAppUser", methodSpec{handle: usersIsAppUser})
}

// defaultUserFields are answered by users.getCurrentUser without fields.
var defaultUserFields = []string{"uid", "first_name", "last_name", "name", "gender", "age", "birthday", "locale", "location", "online"}

// userJSON returns the requested fields of user i as ok.ru names them. uid
// is always there; fields the sandbox does not model are left out, as ok.ru
// leaves out fields a user has not filled in.
func (g *graph) userJSON(i int32, fields fieldSet) map[string]any {
	u := &g.users[i]
	out := map[string]any{"uid": u.uid}
	put := func(name string, v any) {
		if fields[name] {
			out[name] = v
		}
	}
	put("first_name", u.first)
	put("last_name", u.last)
	put("name", u.name())
	put("gender", u.gender)
	put("age", u.age())
	put("birthday", u.birthday.Format("2006-01-02"))
	put("locale", u.locale)
	c := cities[u.city]
	put("location", map[string]string{"city": c.name, "country": c.country, "countryCode": c.countryCode, "countryName": c.countryName})
	if u.online != "" {
		put("online", u.online)
	}
	put("last_online", u.lastOnline.Format("2006-01-02 15:04:05"))
	put("url_profile", "https://ok.ru/profile/"+u.uid)
	return out
}

// usersGetCurrentUser answers the session's user. It needs no permission;
// the email field is answered only to a token granted GET_EMAIL (the
// catalog's field permission), and left out otherwise, without an error.
func usersGetCurrentUser(_ context.Context, inv *invocation) (any, error) {
	fields := inv.fields("fields", defaultUserFields...)
	out := inv.graph().userJSON(inv.user, fields)
	cat, _ := okru.LookupMethod(inv.method)
	if fields["email"] && cat.FieldAllowed("email", inv.sess.has) {
		out["email"] = inv.srv.user(inv.user).Login
	}
	return out, nil
}

// usersGetLoggedInUser answers the session user's id as a JSON string.
func usersGetLoggedInUser(_ context.Context, inv *invocation) (any, error) {
	return inv.graph().users[inv.user].uid, nil
}

// usersGetInfo answers the users among uids that exist, in the order asked,
// each once; unknown ids are left out as ok.ru does.
func usersGetInfo(_ context.Context, inv *invocation) (any, error) {
	uids := inv.list("uids")
	if len(uids) > 100 {
		return nil, invalidParam("uids", fmt.Sprintf("at most 100 ids, got %d", len(uids)))
	}
	fields := inv.fields("fields")
	g := inv.graph()
	out := make([]map[string]any, 0, len(uids))
	seen := make(map[int32]bool, len(uids))
	for _, uid := range uids {
		if !isID(uid) {
			return nil, invalidParam("uids", fmt.Sprintf("%q is not a user id", uid))
		}
		if i, ok := g.lookupUser(uid); ok && !seen[i] {
			seen[i] = true
			out = append(out, g.userJSON(i, fields))
		}
	}
	return out, nil
}

// callsLeftJSON is one item of users.getCallsLeft.
type callsLeftJSON struct {
	Method    string `json:"method"`
	Available bool   `json:"available"`
	CallsLeft int    `json:"callsLeft"` // -1 when no flood limit is in force
}

// usersGetCallsLeft answers, per method, whether it can be called and how
// many calls the caller's flood bucket holds right now.
func usersGetCallsLeft(_ context.Context, inv *invocation) (any, error) {
	left := inv.srv.faults.left(inv.floodKey(), inv.srv.now())
	var out []callsLeftJSON
	for _, m := range inv.list("methods") {
		_, known := okru.LookupMethod(m)
		_, emulated := methodTable[m]
		item := callsLeftJSON{Method: m, Available: (known || emulated) && left != 0, CallsLeft: left}
		if !known && !emulated {
			item.CallsLeft = 0
		}
		out = append(out, item)
	}
	return out, nil
}

// usersIsAppUser answers whether the user has the sandbox app, as a bare
// boolean.
func usersIsAppUser(_ context.Context, inv *invocation) (any, error) {
	u, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	return inv.graph().users[u].appUser, nil
}
