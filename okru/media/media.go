// Package media builds the attachment of a mediatopic.post that shows a
// text and uploaded photos and videos:
//
//	{"media": [{"type": "text", "text": TEXT},
//	           {"type": "photo", "list": [{"id": TOKEN}, ...]},
//	           {"type": "movie", "list": [{"id": VIDEO_ID}, ...]}]}
//
// from the results of uploads as JSON values. It is the one builder behind
// the workflow language's topic_attachment() and Lua's
// okru.topic_attachment{...}: it imports no HTTP, no HCL and no Lua, so
// both can share it. Go programs holding okru.PhotoToken values can use
// okru.PhotoAttachment instead.
package media

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Topic is the attachment of a topic being built: a text, then the photos
// of every upload added, in order, then the videos.
type Topic struct {
	Text   string
	photos []any
	videos []any
}

// Add adds the photos or the video of an upload, given as a JSON value (as
// encoding/json decodes into an any, with or without UseNumber):
//
//   - a photo upload's result, an object whose "photos" are objects with a
//     "token" (okru.PhotoToken's JSON), or
//   - a video upload's result, an object with a "video_id", or
//   - a list of such results, or nil (an upload that was skipped).
func (t *Topic) Add(upload any) error {
	switch u := upload.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range u {
			if err := t.Add(e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		return t.addResult(u)
	}
	return fmt.Errorf("want the result of an upload, not %s", kind(upload))
}

func (t *Topic) addResult(u map[string]any) error {
	photos, hasPhotos := u["photos"]
	id, hasVideo := u["video_id"]
	if (!hasPhotos || photos == nil) && (!hasVideo || id == nil) {
		return errors.New("want the result of an upload, which has photos or video_id")
	}
	if photos != nil {
		list, ok := photos.([]any)
		if !ok {
			return fmt.Errorf("the photos of an upload are a list, not %s", kind(photos))
		}
		for _, p := range list {
			obj, _ := p.(map[string]any)
			tok, ok := obj["token"].(string)
			if !ok || tok == "" {
				return errors.New("a photo of the upload has no token: give the result of a photo upload")
			}
			t.photos = append(t.photos, map[string]any{"id": tok})
		}
	}
	if id != nil {
		switch id.(type) {
		case string, json.Number, float64:
		default:
			return fmt.Errorf("the video_id of an upload is a string, not %s", kind(id))
		}
		t.videos = append(t.videos, map[string]any{"id": id})
	}
	return nil
}

// Attachment returns the attachment; it fails when it would show nothing.
func (t *Topic) Attachment() (map[string]any, error) {
	var items []any
	if t.Text != "" {
		items = append(items, map[string]any{"type": "text", "text": t.Text})
	}
	if len(t.photos) > 0 {
		items = append(items, map[string]any{"type": "photo", "list": t.photos})
	}
	if len(t.videos) > 0 {
		items = append(items, map[string]any{"type": "movie", "list": t.videos})
	}
	if len(items) == 0 {
		return nil, errors.New("a topic needs a text or at least one uploaded photo or video")
	}
	return map[string]any{"media": items}, nil
}

// kind names the JSON kind of v for messages.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
