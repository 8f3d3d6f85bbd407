package okrutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// pngHeader makes content sniffing see a PNG image.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func fakePNG(size int) []byte {
	return append(bytes.Clone(pngHeader), bytes.Repeat([]byte{1}, size)...)
}

// part is one field of a multipart upload.
type part struct {
	field string
	body  io.Reader
}

// upload posts parts to an upload URL as multipart/form-data.
func upload(t *testing.T, uploadURL string, parts ...part) answer {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			w, err := mw.CreateFormFile(p.field, p.field+".png")
			if err == nil {
				_, err = io.Copy(w, p.body)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, uploadURL, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, req)
}

type uploadTarget struct {
	UploadURL string   `json:"upload_url"`
	PhotoIDs  []string `json:"photo_ids"`
	ExpiresMS int64    `json:"expires_ms"`
}

func uploadTokens(t *testing.T, a answer) map[string]string {
	t.Helper()
	var got struct {
		Photos map[string]struct {
			Token string `json:"token"`
		} `json:"photos"`
	}
	a.decode(t, &got)
	out := map[string]string{}
	for id, p := range got.Photos {
		out[id] = p.Token
	}
	return out
}

// checkUploadError checks an error answer of the upload URL.
func checkUploadError(t *testing.T, a answer, status int, code okru.Code, msgHas string) {
	t.Helper()
	if a.status != status || a.header.Get("Invocation-Error") != strconv.Itoa(int(code)) || a.errorCode() != int(code) ||
		!strings.Contains(a.errorMsg(), msgHas) {
		t.Errorf("upload answered %d %s, want %d, code %d and %q", a.status, a.body, status, code, msgHas)
	}
}

func TestPhotoUploadFlow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 50})
	c := demoCaller(s, circuitClient)
	target := result[uploadTarget](t, c, "photosV2.getUploadUrl", map[string]string{"count": "2"})
	if !strings.HasPrefix(target.UploadURL, s.URL+"/upload/photos?t=") || len(target.PhotoIDs) != 2 || target.ExpiresMS == 0 {
		t.Fatalf("getUploadUrl answered %+v", target)
	}
	tokens := uploadTokens(t, upload(t, target.UploadURL, part{"pic1", bytes.NewReader(fakePNG(100))}, part{"pic2", bytes.NewReader(fakePNG(5))}))
	if len(tokens) != 2 || tokens[target.PhotoIDs[0]] == "" || tokens[target.PhotoIDs[1]] == "" {
		t.Fatalf("tokens %v for ids %v", tokens, target.PhotoIDs)
	}
	checkUploadError(t, upload(t, target.UploadURL, part{"pic1", bytes.NewReader(fakePNG(1))}), http.StatusBadRequest, okru.CodeParam, "used or expired")

	listPhotos := func() []string {
		var got struct {
			Photos []struct {
				ID     string `json:"id"`
				UserID string `json:"user_id"`
			} `json:"photos"`
			HasMore bool `json:"has_more"`
		}
		c.call(t, "photos.getPhotos", nil).decode(t, &got)
		var ids []string
		for _, p := range got.Photos {
			ids = append(ids, p.ID)
		}
		return ids
	}
	if ids := listPhotos(); len(ids) != 0 {
		t.Errorf("uncommitted photos are listed: %v", ids)
	}
	commit := fmt.Sprintf(`[{"photo_id":%q,"token":%q},{"photo_id":%q,"token":%q}]`,
		target.PhotoIDs[0], tokens[target.PhotoIDs[0]], target.PhotoIDs[1], tokens[target.PhotoIDs[1]])
	var committed struct {
		Photos []map[string]string `json:"photos"`
	}
	c.call(t, "photosV2.commit", map[string]string{"photos": commit}).decode(t, &committed)
	if len(committed.Photos) != 2 || committed.Photos[1]["status"] != "SUCCESS" || committed.Photos[1]["assigned_photo_id"] != target.PhotoIDs[1] {
		t.Fatalf("commit answered %+v", committed)
	}
	if ids := listPhotos(); fmt.Sprint(ids) != fmt.Sprint(target.PhotoIDs) {
		t.Errorf("photos.getPhotos lists %v, want %v", ids, target.PhotoIDs)
	}
	// One photo by photo_id and token; twice is harmless.
	one := map[string]string{"photo_id": target.PhotoIDs[0], "token": tokens[target.PhotoIDs[0]]}
	c.call(t, "photosV2.commit", one).decode(t, &committed)
	checkErrorAnswer(t, c.call(t, "photosV2.commit", map[string]string{"photo_id": target.PhotoIDs[0], "token": "forged"}), okru.CodeParamPhotoID, "no uploaded photo")
	checkErrorAnswer(t, c.call(t, "photosV2.commit", map[string]string{"photo_id": target.PhotoIDs[0]}), okru.CodeParam, "token")
	checkErrorAnswer(t, c.call(t, "photosV2.commit", map[string]string{"photos": "{"}), okru.CodeParam, "photos")
	other := tokenCaller(s, s.IssueToken(s.graph.users[1].uid, Scopes...), circuitClient)
	checkErrorAnswer(t, other.call(t, "photosV2.commit", one), okru.CodePermissionDenied, "another user")

	// Reset forgets uploads.
	s.Reset()
	if ids := listPhotos(); len(ids) != 0 {
		t.Errorf("after Reset photos.getPhotos lists %v", ids)
	}
}

func TestUploadURLRejects(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 51})
	c := demoCaller(s, circuitServer)
	target := func(count int) string {
		return result[uploadTarget](t, c, "photosV2.getUploadUrl", map[string]string{"count": strconv.Itoa(count)}).UploadURL
	}
	img := func() io.Reader { return bytes.NewReader(fakePNG(10)) }
	tests := []struct {
		name   string
		send   func(url string) answer
		status int
		code   okru.Code
		msg    string
	}{
		{"not multipart", func(u string) answer {
			return do(t, mustRequest(t, http.MethodPost, u, map[string][]string{"pic1": {"x"}}))
		}, http.StatusBadRequest, okru.CodeNotMultipart, "multipart/form-data"},
		{"unknown field", func(u string) answer { return upload(t, u, part{"photo", img()}) }, http.StatusBadRequest, okru.CodeParam, `"photo"`},
		{"beyond the count", func(u string) answer { return upload(t, u, part{"pic1", img()}, part{"pic3", img()}) }, http.StatusBadRequest, okru.CodeParam, "pic1..pic2"},
		{"leading zero", func(u string) answer { return upload(t, u, part{"pic01", img()}) }, http.StatusBadRequest, okru.CodeParam, "pic01"},
		{"twice", func(u string) answer { return upload(t, u, part{"pic1", img()}, part{"pic1", img()}) }, http.StatusBadRequest, okru.CodeParam, "twice"},
		{"not an image", func(u string) answer { return upload(t, u, part{"pic1", strings.NewReader("plain text")}) }, http.StatusBadRequest, okru.CodePhotoInvalidFormat, "not an image"},
		{"empty", func(u string) answer { return upload(t, u, part{"pic1", strings.NewReader("")}) }, http.StatusBadRequest, okru.CodePhotoNoImage, "empty"},
		{"no file", func(u string) answer { return upload(t, u) }, http.StatusBadRequest, okru.CodePhotoNoImage, "No photo"},
		{"too big", func(u string) answer {
			return upload(t, u, part{"pic1", io.MultiReader(bytes.NewReader(pngHeader), io.LimitReader(zeros{}, maxPhotoSize))})
		}, http.StatusRequestEntityTooLarge, okru.CodePhotoSizeTooBig, "larger than"},
		{"unknown ticket", func(u string) answer { return upload(t, u+"x", part{"pic1", img()}) }, http.StatusBadRequest, okru.CodeParam, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkUploadError(t, tt.send(target(2)), tt.status, tt.code, tt.msg)
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestGetUploadURLChecks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 52})
	c := demoCaller(s, circuitClient)
	g := s.graph
	ownAlbum, otherAlbum, groupAlbum := "", "", ""
	for _, a := range g.albums {
		switch {
		case a.user == demoIndex && ownAlbum == "":
			ownAlbum = a.aid
		case a.user > demoIndex && otherAlbum == "":
			otherAlbum = a.aid
		case a.group == 0 && groupAlbum == "":
			groupAlbum = a.aid
		}
	}
	notMember := int32(-1)
	for i := range g.groups {
		if !g.groups[i].isMember(demoIndex) {
			notMember = int32(i)
			break
		}
	}
	gid0 := g.groups[0].gid // the demo user is a member
	tests := []struct {
		name   string
		params map[string]string
		code   okru.Code
		msg    string
	}{
		{"count too high", map[string]string{"count": "41"}, okru.CodeParam, "count"},
		{"unknown album", map[string]string{"aid": "123"}, okru.CodeParamAlbumID, "123"},
		{"another user's album", map[string]string{"aid": otherAlbum}, okru.CodePhotoAlbumNotBelongsToUser, otherAlbum},
		{"a user's album in a group", map[string]string{"aid": otherAlbum, "gid": gid0}, okru.CodePhotoAlbumNotBelongsToGroup, otherAlbum},
		{"a group the user is not in", map[string]string{"gid": g.groups[notMember].gid}, okru.CodePermissionDenied, "not a member"},
		{"another user", map[string]string{"uid": g.users[2].uid}, okru.CodePermissionDenied, "own user"},
		{"own album", map[string]string{"aid": ownAlbum}, 0, ""},
		{"group album", map[string]string{"aid": groupAlbum, "gid": gid0}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := c.call(t, "photosV2.getUploadUrl", tt.params)
			if tt.code == 0 {
				var got uploadTarget
				a.decode(t, &got)
				return
			}
			checkErrorAnswer(t, a, tt.code, tt.msg)
		})
	}
	noPhoto := tokenCaller(s, s.IssueToken(s.DemoUser().UID, "VALUABLE_ACCESS"), circuitClient)
	checkErrorAnswer(t, noPhoto.call(t, "photosV2.getUploadUrl", nil), okru.CodePermissionDenied, "PHOTO_CONTENT")
}

// TestGetPhotosOfSeededAlbum pages through an album's seeded photos.
func TestGetPhotosOfSeededAlbum(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 53})
	c := demoCaller(s, circuitClient)
	var al album // the biggest album of group 0
	for _, a := range s.graph.albums {
		if a.group == 0 && a.photos > al.photos {
			al = a
		}
	}
	if al.photos <= 10 {
		t.Fatalf("seed 53's biggest album of group 0 has %d photos; pick a seed with more than one page", al.photos)
	}
	seen := map[string]bool{}
	anchor := ""
	for pages := 0; ; pages++ {
		var got struct {
			Photos []struct {
				ID      string `json:"id"`
				AlbumID string `json:"album_id"`
				GroupID string `json:"group_id"`
			} `json:"photos"`
			Anchor     string `json:"anchor"`
			HasMore    bool   `json:"has_more"`
			TotalCount int    `json:"totalCount"`
		}
		c.call(t, "photos.getPhotos", map[string]string{"gid": s.graph.groups[0].gid, "aid": al.aid, "count": "10",
			"anchor": anchor, "detectTotalCount": "true"}).decode(t, &got)
		for _, p := range got.Photos {
			if seen[p.ID] || p.AlbumID != al.aid || p.GroupID != s.graph.groups[0].gid {
				t.Fatalf("photo %+v", p)
			}
			seen[p.ID] = true
		}
		if got.TotalCount != al.photos {
			t.Errorf("totalCount %d, want %d", got.TotalCount, al.photos)
		}
		if !got.HasMore {
			break
		}
		anchor = got.Anchor
	}
	if len(seen) != al.photos {
		t.Errorf("paged through %d photos, want %d", len(seen), al.photos)
	}
}

// TestPhotoMedia: a topic takes the tokens of photos its author uploaded
// and shows them as photo refs; other tokens are refused.
func TestPhotoMedia(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 54})
	c := demoCaller(s, circuitClient)
	target := result[uploadTarget](t, c, "photosV2.getUploadUrl", nil)
	tokens := uploadTokens(t, upload(t, target.UploadURL, part{"pic1", bytes.NewReader(fakePNG(3))}))
	tok := tokens[target.PhotoIDs[0]]
	att := func(tokens ...string) string {
		var list []map[string]string
		for _, tk := range tokens {
			list = append(list, map[string]string{"id": tk})
		}
		b, _ := json.Marshal(map[string]any{"media": []any{map[string]any{"type": "photo", "list": list}}})
		return string(b)
	}
	id := result[string](t, c, "mediatopic.post", map[string]string{"type": "USER", "attachment": att(tok)})
	var got struct {
		Topics []struct {
			Media []json.RawMessage `json:"media"`
		} `json:"media_topics"`
	}
	c.call(t, "mediatopic.getByIds", map[string]string{"topic_ids": id}).decode(t, &got)
	want := fmt.Sprintf(`{"photo_refs":["photo:%s"],"type":"photo"}`, target.PhotoIDs[0])
	if len(got.Topics) != 1 || len(got.Topics[0].Media) != 1 || string(got.Topics[0].Media[0]) != want {
		t.Fatalf("topic %+v, want media %s", got, want)
	}
	other := tokenCaller(s, s.IssueToken(s.graph.users[1].uid, Scopes...), circuitClient)
	checkErrorAnswer(t, other.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": att(tok)}), okru.CodePermissionDenied, "another user")
	checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": att("forged")}), okru.CodeParam, "upload it first")
	checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"photo","list":[]}]}`}), okru.CodeParam, "non-empty")
}
