package okrutest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/okru-run/okru-run/okru"
)

// createdTopicBase starts the ids of posted topics, far above the seeded
// ones so that the two never collide.
const createdTopicBase = 700_000_000_000_000

// postedTopic is a topic created by mediatopic.post.
type postedTopic struct {
	topic
	media []json.RawMessage // the attachment's media items, as posted
}

// topicStore holds the topics created by calls; Reset empties it.
type topicStore struct {
	mu       sync.RWMutex
	byID     map[string]*postedTopic
	perGroup map[int32]int
	seq      uint64
}

func (ts *topicStore) add(t *postedTopic) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.byID == nil {
		ts.byID = map[string]*postedTopic{}
		ts.perGroup = map[int32]int{}
	}
	ts.seq++
	t.id = strconv.FormatUint(createdTopicBase+ts.seq, 10)
	ts.byID[t.id] = t
	if t.group >= 0 {
		ts.perGroup[t.group]++
	}
	return t.id
}

func (ts *topicStore) get(id string) *postedTopic {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.byID[id]
}

func (ts *topicStore) groupCount(g int32) int {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.perGroup[g]
}

// reset forgets every posted topic. The id sequence goes on, so an id from
// before the reset is not reused.
func (ts *topicStore) reset() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.byID, ts.perGroup = nil, nil
}

// mediaValidator checks one item of an attachment's media array. Other
// files register more kinds (photos, once uploads exist).
type mediaValidator func(inv *invocation, item map[string]any) error

var mediaTable = map[string]mediaValidator{}

// mediaStored turns a valid item of a kind into what the topic stores and
// mediatopic.getByIds answers, for kinds whose posted form differs from
// the stored one (uploaded photo tokens become photo refs).
var mediaStored = map[string]func(inv *invocation, item map[string]any) json.RawMessage{}

func registerMedia(kind string, v mediaValidator) {
	if _, dup := mediaTable[kind]; dup {
		panic("okrutest: media kind registered twice: " + kind)
	}
	mediaTable[kind] = v
}

func init() {
	registerMethod("mediatopic.post", methodSpec{handle: mediatopicPost})
	registerMethod("mediatopic.getByIds", methodSpec{handle: mediatopicGetByIDs})
	registerMedia("text", func(_ *invocation, item map[string]any) error {
		if s, _ := item["text"].(string); s == "" {
			return invalidParam("attachment", `a "text" media item needs a non-empty "text"`)
		}
		return nil
	})
	registerMedia("link", func(_ *invocation, item map[string]any) error {
		s, _ := item["url"].(string)
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidParam("attachment", `a "link" media item needs an absolute http(s) "url"`)
		}
		return nil
	})
	registerMedia("poll", func(_ *invocation, item map[string]any) error {
		q, _ := item["question"].(string)
		answers, _ := item["answers"].([]any)
		if q == "" || len(answers) < 2 {
			return invalidParam("attachment", `a "poll" media item needs a "question" and at least two "answers"`)
		}
		for i, a := range answers {
			obj, _ := a.(map[string]any)
			if t, _ := obj["text"].(string); t == "" {
				return invalidParam("attachment", fmt.Sprintf(`poll answer %d needs a non-empty "text"`, i))
			}
		}
		return nil
	})
}

// mediatopicPost creates a topic on a user's feed (type USER) or in a group
// (type GROUP_THEME) and answers its id as a JSON string.
func mediatopicPost(_ context.Context, inv *invocation) (any, error) {
	for _, b := range []string{"set_status", "text_link_preview", "hidden_post"} {
		if v, ok := inv.params[b]; ok && v != "true" && v != "false" {
			return nil, invalidParam(b, fmt.Sprintf("want true or false, got %q", v))
		}
	}
	media, err := parseAttachment(inv)
	if err != nil {
		return nil, err
	}
	author, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	if inv.user >= 0 && author != inv.user {
		return nil, errorf(okru.CodePermissionDenied, "a session can post only as its own user")
	}
	t := &postedTopic{topic: topic{user: -1, group: -1, author: author, created: inv.srv.now()}, media: media}
	switch typ := inv.param("type"); typ {
	case "USER":
		t.user = author
	case "GROUP_THEME":
		gid := inv.param("gid")
		if gid == "" {
			return nil, missingParam("gid")
		}
		g, err := inv.groupByID("gid", gid)
		if err != nil {
			return nil, err
		}
		if !inv.graph().groups[g].isMember(author) {
			return nil, errorf(okru.CodePermissionDenied, "user %s is not a member of group %s", inv.graph().users[author].uid, gid)
		}
		t.group = g
	default:
		return nil, invalidParam("type", fmt.Sprintf("%q is not emulated by the sandbox; use USER or GROUP_THEME", typ))
	}
	return inv.srv.topics.add(t), nil
}

// parseAttachment checks the attachment JSON: an object whose "media" is a
// non-empty array of items of known kinds. Other top-level keys (publishAt,
// onBehalfOfGroup, ...) are accepted as ok.ru does.
func parseAttachment(inv *invocation) ([]json.RawMessage, error) {
	var att struct {
		Media []json.RawMessage `json:"media"`
	}
	if err := json.Unmarshal([]byte(inv.param("attachment")), &att); err != nil {
		return nil, invalidParam("attachment", "not a JSON object: "+err.Error())
	}
	if len(att.Media) == 0 {
		return nil, invalidParam("attachment", `"media" must be a non-empty array`)
	}
	for i, raw := range att.Media {
		var item map[string]any
		if err := json.Unmarshal(raw, &item); err != nil || item == nil {
			return nil, invalidParam("attachment", fmt.Sprintf("media item %d is not an object", i))
		}
		kind, _ := item["type"].(string)
		validate, ok := mediaTable[kind]
		if !ok {
			return nil, invalidParam("attachment", fmt.Sprintf("media item %d: type %q is not emulated by the sandbox", i, kind))
		}
		if err := validate(inv, item); err != nil {
			return nil, err
		}
		if store := mediaStored[kind]; store != nil {
			att.Media[i] = store(inv, item)
		}
	}
	return att.Media, nil
}

// mediaTopicJSON is one topic of mediatopic.getByIds.
type mediaTopicJSON struct {
	ID        string            `json:"id"`
	OwnerRef  string            `json:"owner_ref"`
	AuthorRef string            `json:"author_ref"`
	CreatedMS int64             `json:"created_ms"`
	Media     []json.RawMessage `json:"media"`
}

// mediatopicGetByIDs answers {"media_topics": [...]} for the seeded and the
// posted topics among topic_ids; unknown ids are left out.
func mediatopicGetByIDs(_ context.Context, inv *invocation) (any, error) {
	ids := inv.list("topic_ids")
	if len(ids) > 100 {
		return nil, invalidParam("topic_ids", fmt.Sprintf("at most 100 ids, got %d", len(ids)))
	}
	limit, err := inv.intParam("media_limit", 0, 0, 1000)
	if err != nil {
		return nil, err
	}
	g := inv.graph()
	out := []mediaTopicJSON{}
	for _, id := range ids {
		var t topic
		var media []json.RawMessage
		if i, ok := g.byTopic[id]; ok {
			t = g.topics[i]
			text, _ := json.Marshal(map[string]string{"type": "text", "text": t.text})
			media = []json.RawMessage{text}
		} else if p := inv.srv.topics.get(id); p != nil {
			t, media = p.topic, p.media
		} else {
			continue
		}
		if limit > 0 && len(media) > limit {
			media = media[:limit]
		}
		out = append(out, mediaTopicJSON{
			ID: t.id, OwnerRef: g.ownerRef(t), AuthorRef: "user:" + g.users[t.author].uid,
			CreatedMS: t.created.UnixMilli(), Media: media,
		})
	}
	return map[string]any{"media_topics": out}, nil
}

func (g *graph) ownerRef(t topic) string {
	if t.group >= 0 {
		return "group:" + g.groups[t.group].gid
	}
	return "user:" + g.users[t.user].uid
}
