package okrutest

import (
	"context"
	"net/url"
	"strings"

	"github.com/okru-run/okru-run/okru"
)

func init() {
	registerMethod("url.getInfo", methodSpec{handle: urlGetInfo})
	// The catalog does not say whether auth.touchSession needs a session;
	// it extends one, so it does.
	registerMethod("auth.touchSession", methodSpec{handle: authTouchSession, session: okru.SessionRequired})
}

var okHosts = map[string]bool{"ok.ru": true, "www.ok.ru": true, "m.ok.ru": true, "odnoklassniki.ru": true, "www.odnoklassniki.ru": true}

// urlGetInfo resolves an ok.ru link to the object it shows:
// {"type": "PROFILE"|"GROUP"|"USER_TOPIC"|"GROUP_TOPIC", "objectId": "..."},
// or {"type": "UNKNOWN"} for anything else, links to missing objects
// included.
func urlGetInfo(_ context.Context, inv *invocation) (any, error) {
	u, err := url.Parse(inv.param("url"))
	if err != nil || u.Host == "" {
		return nil, invalidParam("url", "want an absolute URL such as https://ok.ru/profile/<uid>")
	}
	unknown := map[string]string{"type": "UNKNOWN"}
	if !okHosts[strings.ToLower(u.Hostname())] {
		return unknown, nil
	}
	typ, id := inv.graph().resolvePath(strings.Split(strings.Trim(u.Path, "/"), "/"), inv.srv)
	if typ == "" {
		return unknown, nil
	}
	return map[string]string{"type": typ, "objectId": id}, nil
}

// resolvePath maps the segments of an ok.ru path to an object type and id,
// or "" when nothing in the sandbox matches.
func (g *graph) resolvePath(seg []string, s *Server) (string, string) {
	switch {
	case len(seg) >= 2 && seg[0] == "profile":
		ui, ok := g.lookupUser(seg[1])
		if !ok {
			return "", ""
		}
		if len(seg) == 2 {
			return "PROFILE", seg[1]
		}
		if len(seg) == 4 && seg[2] == "statuses" && g.topicOwnedBy(s, seg[3], ui, -1) {
			return "USER_TOPIC", seg[3]
		}
	case len(seg) >= 2 && seg[0] == "group":
		return g.resolveGroup(seg[1], seg[2:], s)
	case len(seg) >= 1 && strings.HasPrefix(seg[0], "group") && isID(seg[0][len("group"):]):
		return g.resolveGroup(seg[0][len("group"):], seg[1:], s)
	case len(seg) >= 1:
		if gi, ok := g.byShort[seg[0]]; ok {
			return g.resolveGroup(g.groups[gi].gid, seg[1:], s)
		}
	}
	return "", ""
}

func (g *graph) resolveGroup(gid string, rest []string, s *Server) (string, string) {
	gi, ok := g.lookupGroup(gid)
	if !ok {
		return "", ""
	}
	switch {
	case len(rest) == 0:
		return "GROUP", gid
	case len(rest) == 2 && rest[0] == "topic" && g.topicOwnedBy(s, rest[1], -1, gi):
		return "GROUP_TOPIC", rest[1]
	}
	return "", ""
}

// topicOwnedBy reports whether topic id, seeded or posted, belongs to the
// user or the group (-1 for the other).
func (g *graph) topicOwnedBy(s *Server, id string, user, group int32) bool {
	var t topic
	if i, ok := g.byTopic[id]; ok {
		t = g.topics[i]
	} else if p := s.topics.get(id); p != nil {
		t = p.topic
	} else {
		return false
	}
	return t.user == user && t.group == group
}

// authTouchSession extends the session by Config.TokenTTL from now, as
// ok.ru extends long-lived tokens, and answers true.
func authTouchSession(_ context.Context, inv *invocation) (any, error) {
	inv.sess.touch(inv.srv.now())
	return true, nil
}
