package okrutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// TestPhotoCommitCaption: a caption given at commit is kept; committing
// the same photo again keeps it once in its album and is counted.
func TestPhotoCommitCaption(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 50})
	c := demoCaller(s, circuitClient)
	target := result[uploadTarget](t, c, "photosV2.getUploadUrl", map[string]string{"count": "1"})
	tokens := uploadTokens(t, upload(t, target.UploadURL, part{"pic1", bytes.NewReader(fakePNG(100))}))
	id := target.PhotoIDs[0]
	commit := map[string]string{"photos": fmt.Sprintf(`[{"photo_id":%q,"token":%q,"comment":"Sunset"}]`, id, tokens[id])}
	c.call(t, "photosV2.commit", commit).decode(t, &struct{}{})
	c.call(t, "photosV2.commit", commit).decode(t, &struct{}{})
	photos := s.UploadedPhotos()
	if len(photos) != 1 || photos[0].Comment != "Sunset" || photos[0].Commits != 2 || !photos[0].Committed || photos[0].SHA256 == "" {
		t.Fatalf("photos %+v: want one, captioned, committed twice, with its hash", photos)
	}
}

// TestPhotosGetAlbums lists a group's albums and the user's own.
func TestPhotosGetAlbums(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 52})
	c := demoCaller(s, circuitClient)
	gid := s.DemoGroups()[0]
	var got struct {
		Albums []struct {
			AID     string `json:"aid"`
			GroupID string `json:"group_id"`
		} `json:"albums"`
		HasMore bool `json:"hasMore"`
	}
	c.call(t, "photos.getAlbums", map[string]string{"gid": gid}).decode(t, &got)
	want := s.GroupAlbums(gid)
	if len(got.Albums) != len(want) || len(want) == 0 || got.Albums[0].AID != want[0] || got.Albums[0].GroupID != gid || got.HasMore {
		t.Fatalf("albums %+v, want %v", got, want)
	}
}

// videoPart posts one part of a video, or a query when body is nil.
func videoPart(t *testing.T, url, contentRange string, body []byte) (int, string) {
	t.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, r)
	req.Header.Set("Content-Range", contentRange)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestVideoUploadFlow: video.getUploadUrl, parts in order (one out of
// order refused with what arrived), a query, video.update once whole, a
// movie media item in a topic.
func TestVideoUploadFlow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 50})
	c := demoCaller(s, circuitClient)
	checkErrorAnswer(t, c.call(t, "video.getUploadUrl", map[string]string{"file_name": "a.mp4"}), okru.CodeParam, "file_size")
	var target struct {
		UploadURL string `json:"upload_url"`
		VideoID   string `json:"video_id"`
	}
	c.call(t, "video.getUploadUrl", map[string]string{"file_name": "a.mp4", "file_size": "40"}).decode(t, &target)
	data := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte{7}, 16)...)
	checkErrorAnswer(t, c.call(t, "video.update", map[string]string{"vid": target.VideoID, "title": "x"}), okru.CodeParam, "not fully uploaded")
	if code, body := videoPart(t, target.UploadURL, "bytes 28-39/40", data[28:]); code != http.StatusRequestedRangeNotSatisfiable || !strings.Contains(body, `"received":0`) {
		t.Fatalf("out of order part: %d %s", code, body)
	}
	if code, body := videoPart(t, target.UploadURL, "bytes 0-27/40", data[:28]); code != http.StatusOK || !strings.Contains(body, `"received":28`) {
		t.Fatalf("first part: %d %s", code, body)
	}
	if code, body := videoPart(t, target.UploadURL, "bytes */40", nil); code != http.StatusOK || !strings.Contains(body, `"received":28`) {
		t.Fatalf("query: %d %s", code, body)
	}
	if code, body := videoPart(t, target.UploadURL, "bytes 28-39/40", data[28:]); code != http.StatusOK || !strings.Contains(body, `"received":40`) {
		t.Fatalf("last part: %d %s", code, body)
	}
	checkErrorAnswer(t, c.call(t, "video.update", map[string]string{"vid": target.VideoID, "privacy": "EVERYONE"}), okru.CodeParam, "privacy")
	c.call(t, "video.update", map[string]string{"vid": target.VideoID, "title": "Clip", "tags": "a,b"}).decode(t, new(bool))
	vids := s.UploadedVideos()
	if len(vids) != 1 || vids[0].Title != "Clip" || vids[0].Received != 40 || vids[0].SHA256 == "" || vids[0].Updates != 1 {
		t.Fatalf("videos %+v", vids)
	}
	// The part refused out of order was not read; the query counts.
	var listed []UploadedVideo
	if err := json.Unmarshal(control(t, s, http.MethodGet, "videos", "").body, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != vids[0] || listed[0].Posted != 40 || listed[0].Queries != 1 {
		t.Errorf("GET /__sandbox/videos = %+v, want %+v posted 40 bytes after 1 question", listed, vids[0])
	}
	att := fmt.Sprintf(`{"media":[{"type":"movie","list":[{"id":%q}]}]}`, target.VideoID)
	c.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": att}).decode(t, new(string))
	checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"movie","list":[{"id":"1"}]}]}`}), okru.CodeParam, "no uploaded video")
}

// TestVideoUploadRejects: a first part that is not a video, a size other
// than announced, a missing Content-Range.
func TestVideoUploadRejects(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 50})
	c := demoCaller(s, circuitClient)
	var target struct {
		UploadURL string `json:"upload_url"`
	}
	c.call(t, "video.getUploadUrl", map[string]string{"file_size": "20"}).decode(t, &target)
	for name, tt := range map[string]struct {
		rng  string
		body []byte
		want string
	}{
		"not a video":   {"bytes 0-19/20", fakePNG(4), "not a video"},
		"other size":    {"bytes 0-9/30", bytes.Repeat([]byte{1}, 10), "video.getUploadUrl said 20"},
		"no range":      {"", []byte("x"), "Content-Range"},
		"short of body": {"bytes 0-19/20", []byte("\x00\x00\x00\x18ftypmp42"), "shorter"},
	} {
		if code, body := videoPart(t, target.UploadURL, tt.rng, tt.body); code == http.StatusOK || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s, want a refusal saying %q", name, code, body, tt.want)
		}
	}
}

// FuzzParseContentRange: any header either is refused or gives a range
// inside the file.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-9/10", "bytes */10", "bytes 5-4/10", "bytes -1-3/4", "bytes 0-0/1", "", "bytes 9-9/9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		first, last, total, query, err := parseContentRange(h)
		switch {
		case err != nil:
		case total <= 0:
			t.Errorf("%q: total %d", h, total)
		case !query && (first < 0 || last < first || last >= total):
			t.Errorf("%q: range %d-%d/%d", h, first, last, total)
		}
	})
}

// TestAlbumShowsCommits: photos committed into a group's album are listed
// by photos.getPhotos with their captions, and counted once each by the
// album's photos_count in photos.getAlbums, however often committed.
func TestAlbumShowsCommits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 52})
	c := demoCaller(s, circuitClient)
	gid := s.DemoGroups()[0]
	aid := s.GroupAlbums(gid)[0]
	type album struct {
		AID         string `json:"aid"`
		PhotosCount int    `json:"photos_count"`
	}
	count := func() int {
		var got struct{ Albums []album }
		c.call(t, "photos.getAlbums", map[string]string{"gid": gid}).decode(t, &got)
		for _, a := range got.Albums {
			if a.AID == aid {
				return a.PhotosCount
			}
		}
		t.Fatalf("photos.getAlbums does not list %s: %+v", aid, got)
		return 0
	}
	groupPhotos := func() int {
		var got struct {
			Counters map[string]int `json:"counters"`
		}
		c.call(t, "group.getCounters", map[string]string{"group_id": gid, "counterTypes": "PHOTOS"}).decode(t, &got)
		return got.Counters["photos"]
	}
	seeded, seededGroup := count(), groupPhotos()

	target := result[uploadTarget](t, c, "photosV2.getUploadUrl", map[string]string{"count": "2", "gid": gid, "aid": aid})
	tokens := uploadTokens(t, upload(t, target.UploadURL, part{"pic1", bytes.NewReader(fakePNG(10))}, part{"pic2", bytes.NewReader(fakePNG(11))}))
	a, b := target.PhotoIDs[0], target.PhotoIDs[1]
	commit := map[string]string{"photos": fmt.Sprintf(`[{"photo_id":%q,"token":%q,"comment":"Sunset"},{"photo_id":%q,"token":%q}]`, a, tokens[a], b, tokens[b])}
	c.call(t, "photosV2.commit", commit).decode(t, &struct{}{})
	c.call(t, "photosV2.commit", commit).decode(t, &struct{}{})
	if n := count(); n != seeded+2 {
		t.Errorf("photos_count %d after committing 2 photos (twice), want %d", n, seeded+2)
	}
	if n := groupPhotos(); n != seededGroup+2 {
		t.Errorf("group.getCounters PHOTOS %d after committing 2 photos to its album, want %d", n, seededGroup+2)
	}

	texts := map[string]string{}
	anchor := ""
	for {
		var page struct {
			Photos []struct {
				ID   string  `json:"id"`
				Text *string `json:"text"`
			} `json:"photos"`
			Anchor  string `json:"anchor"`
			HasMore bool   `json:"has_more"`
		}
		c.call(t, "photos.getPhotos", map[string]string{"gid": gid, "aid": aid, "count": "100", "anchor": anchor}).decode(t, &page)
		for _, p := range page.Photos {
			if p.Text != nil {
				texts[p.ID] = *p.Text
			}
		}
		if !page.HasMore {
			break
		}
		anchor = page.Anchor
	}
	if len(texts) != 1 || texts[a] != "Sunset" {
		t.Errorf("photos.getPhotos gives the texts %v, want only %s: Sunset", texts, a)
	}
}
