package okrutest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// Photo uploads as on ok.ru: photosV2.getUploadUrl reserves photo ids and
// answers an upload URL; the client posts the files to it as multipart
// fields pic1..picN and gets a token per photo; photosV2.commit puts the
// photos into their album, and a mediatopic.post attachment
// {"type": "photo", "list": [{"id": token}]} puts them into a topic.
// photos.getPhotos lists an album's seeded photos and the committed ones,
// with the captions given at commit; photos.getAlbums counts both.

const (
	// Seeded photos have ids seededPhotoBase + album index*1000 + n; the
	// uploaded ones count up from uploadedPhotoBase.
	seededPhotoBase   = 860_000_000_000_000
	uploadedPhotoBase = 880_000_000_000_000
	// maxUploadCount is the most photos one upload URL takes.
	maxUploadCount = 40
	// maxPhotoSize bounds one file; maxUploadBody the whole request.
	maxPhotoSize  = 10 << 20
	maxUploadBody = 64 << 20
	// uploadURLLifetime is how long an upload URL may be used.
	uploadURLLifetime = time.Hour
	uploadPath        = "/upload/photos"
)

// uploadTicket is one upload URL: who may post which photo ids where.
type uploadTicket struct {
	user, album, group int32 // album and group are -1 when none
	ids                []string
	expires            time.Time
	used               bool
}

// photo is an uploaded photo.
type photo struct {
	id                 string
	user, album, group int32
	token              string
	size               int64
	contentType        string
	sum                string // sha256 of the content, hex
	created            time.Time
	committed          bool
	commits            int // photosV2.commit calls that named it
	comment            string
}

// photoStore holds upload URLs and uploaded photos; Reset empties it.
type photoStore struct {
	mu      sync.Mutex
	seq     uint64
	tickets map[string]*uploadTicket
	byID    map[string]*photo
	byToken map[string]*photo
}

func (ps *photoStore) reset() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.tickets, ps.byID, ps.byToken = nil, nil, nil
}

func (ps *photoStore) byTokenLocked(token string) *photo {
	if token == "" {
		return nil
	}
	return ps.byToken[token]
}

func init() {
	registerMethod("photosV2.getUploadUrl", methodSpec{handle: photosGetUploadURL})
	registerMethod("photosV2.commit", methodSpec{handle: photosCommit})
	registerMethod("photos.getPhotos", methodSpec{handle: photosGetPhotos})
	registerMethod("photos.getAlbums", methodSpec{handle: photosGetAlbums})
	registerRoute("POST "+uploadPath, func(s *Server) http.Handler { return http.HandlerFunc(s.serveUpload) })
	registerMedia("photo", validatePhotoMedia)
	mediaStored["photo"] = storedPhotoMedia
}

// lookupAlbum finds an album by id. Album ids grow with the index, so a
// binary search over their numeric values finds one.
func (g *graph) lookupAlbum(aid string) (int32, bool) {
	want, err := strconv.ParseUint(aid, 10, 64)
	if err != nil {
		return 0, false
	}
	i := sort.Search(len(g.albums), func(i int) bool {
		n, _ := strconv.ParseUint(g.albums[i].aid, 10, 64)
		return n >= want
	})
	if i < len(g.albums) && g.albums[i].aid == aid {
		return int32(i), true
	}
	return 0, false
}

// photoPlace reads where photos go or come from: the album aid, the group
// gid, or the user's personal photos. It checks that the album belongs to
// the user or the group.
func (inv *invocation) photoPlace(user int32) (album, group int32, err error) {
	album, group = -1, -1
	g := inv.graph()
	if gid := inv.param("gid"); gid != "" {
		if group, err = inv.groupByID("gid", gid); err != nil {
			return 0, 0, err
		}
	}
	aid := inv.param("aid")
	if aid == "" {
		return album, group, nil
	}
	a, ok := g.lookupAlbum(aid)
	if !ok {
		return 0, 0, errorf(okru.CodeParamAlbumID, "Invalid album id %s", aid)
	}
	switch al := g.albums[a]; {
	case group >= 0 && al.group != group:
		return 0, 0, errorf(okru.CodePhotoAlbumNotBelongsToGroup, "Album %s does not belong to group %s", aid, g.groups[group].gid)
	case group < 0 && al.user != user:
		return 0, 0, errorf(okru.CodePhotoAlbumNotBelongsToUser, "Album %s does not belong to user %s", aid, g.users[user].uid)
	}
	return a, group, nil
}

// photosGetUploadURL reserves count photo ids and answers
// {"upload_url", "photo_ids", "expires_ms"}.
func photosGetUploadURL(_ context.Context, inv *invocation) (any, error) {
	user, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	if inv.user >= 0 && user != inv.user {
		return nil, errorf(okru.CodePermissionDenied, "a session can upload only as its own user")
	}
	count, err := inv.intParam("count", 1, 1, maxUploadCount)
	if err != nil {
		return nil, err
	}
	album, group, err := inv.photoPlace(user)
	if err != nil {
		return nil, err
	}
	if group >= 0 && !inv.graph().groups[group].isMember(user) {
		return nil, errorf(okru.CodePermissionDenied, "user %s is not a member of group %s", inv.graph().users[user].uid, inv.param("gid"))
	}
	s := inv.srv
	now := s.now()
	t := &uploadTicket{user: user, album: album, group: group, expires: now.Add(uploadURLLifetime)}
	ticket := randomToken(32)
	ps := &s.photos
	ps.mu.Lock()
	if ps.tickets == nil {
		ps.tickets = map[string]*uploadTicket{}
	}
	for k, old := range ps.tickets {
		if now.After(old.expires) {
			delete(ps.tickets, k)
		}
	}
	for range count {
		ps.seq++
		t.ids = append(t.ids, strconv.FormatUint(uploadedPhotoBase+ps.seq, 10))
	}
	ps.tickets[ticket] = t
	ps.mu.Unlock()
	return map[string]any{
		"upload_url": s.URL + uploadPath + "?t=" + ticket,
		"photo_ids":  t.ids,
		"expires_ms": t.expires.UnixMilli(),
	}, nil
}

// uploadError answers the upload URL's errors in ok.ru's envelope, with an
// HTTP status that says what went wrong.
func uploadError(w http.ResponseWriter, status int, e *apiError) {
	w.Header().Set("Invocation-Error", strconv.Itoa(int(e.code)))
	writeJSON(w, status, struct {
		Code int    `json:"error_code"`
		Msg  string `json:"error_msg"`
		Data any    `json:"error_data"`
	}{int(e.code), e.Error(), nil})
}

// serveUpload takes the files of one upload URL: a multipart body whose
// fields are pic1..picN, N at most the count reserved, each an image. It
// answers {"photos": {"<photo id>": {"token": "..."}}}. The body is read
// as a stream, never held whole.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	ticketID := queryParams(r).Get("t")
	ps := &s.photos
	ps.mu.Lock()
	t := ps.tickets[ticketID]
	valid := t != nil && !t.used && !s.now().After(t.expires)
	if valid {
		t.used = true // one upload per URL, even if it fails
	}
	ps.mu.Unlock()
	if !valid {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "The upload URL is unknown, used or expired: call photosV2.getUploadUrl again"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeNotMultipart, "Send the photos as multipart/form-data fields pic1..picN"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	mr, err := r.MultipartReader()
	if err != nil {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeNotMultipart, "Cannot read the multipart body: %v", err))
		return
	}
	got := map[string]*photo{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			status := http.StatusBadRequest
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			uploadError(w, status, errorf(okru.CodeNotMultipart, "Cannot read the multipart body: %v", err))
			return
		}
		p, status, e := s.readPhotoPart(part, t, got)
		part.Close()
		if e != nil {
			uploadError(w, status, e)
			return
		}
		got[p.id] = p
	}
	if len(got) == 0 {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodePhotoNoImage, "No photo was sent: post the files as fields pic1..pic%d", len(t.ids)))
		return
	}
	answer := map[string]map[string]string{}
	ps.mu.Lock()
	if ps.byID == nil {
		ps.byID, ps.byToken = map[string]*photo{}, map[string]*photo{}
	}
	for id, p := range got {
		ps.byID[id], ps.byToken[p.token] = p, p
		answer[id] = map[string]string{"token": p.token}
	}
	ps.mu.Unlock()
	s.logger.Debug("upload", "photos", len(got))
	writeJSON(w, http.StatusOK, map[string]any{"photos": answer})
}

// readPhotoPart reads one field picN: its number must be reserved and not
// sent before, and its content an image of at most maxPhotoSize bytes.
func (s *Server) readPhotoPart(part *multipart.Part, t *uploadTicket, got map[string]*photo) (*photo, int, *apiError) {
	name := part.FormName()
	n, err := strconv.Atoi(strings.TrimPrefix(name, "pic"))
	if !strings.HasPrefix(name, "pic") || err != nil || n < 1 || n > len(t.ids) || strconv.Itoa(n) != name[3:] {
		return nil, http.StatusBadRequest, errorf(okru.CodeParam, "Unexpected field %q: this upload URL takes pic1..pic%d", name, len(t.ids))
	}
	id := t.ids[n-1]
	if got[id] != nil {
		return nil, http.StatusBadRequest, errorf(okru.CodeParam, "Field %s is sent twice", name)
	}
	h := sha256.New()
	head := make([]byte, 512)
	k, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, http.StatusBadRequest, errorf(okru.CodeNotMultipart, "Cannot read %s: %v", name, err)
	}
	head = head[:k]
	if k == 0 {
		return nil, http.StatusBadRequest, errorf(okru.CodePhotoNoImage, "Field %s is empty", name)
	}
	ct := http.DetectContentType(head)
	if !strings.HasPrefix(ct, "image/") {
		return nil, http.StatusBadRequest, errorf(okru.CodePhotoInvalidFormat, "Field %s is not an image (%s): send JPEG, PNG, GIF or WebP", name, ct)
	}
	h.Write(head)
	rest, err := io.Copy(h, io.LimitReader(part, maxPhotoSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errorf(okru.CodePhotoSizeLimitExceeded, "The upload is larger than %d bytes", maxUploadBody)
		}
		return nil, http.StatusBadRequest, errorf(okru.CodeNotMultipart, "Cannot read %s: %v", name, err)
	}
	size := int64(k) + rest
	if size > maxPhotoSize {
		return nil, http.StatusRequestEntityTooLarge, errorf(okru.CodePhotoSizeTooBig, "Field %s is larger than %d bytes", name, maxPhotoSize)
	}
	return &photo{id: id, user: t.user, album: t.album, group: t.group, token: randomToken(40),
		size: size, contentType: ct, sum: hex.EncodeToString(h.Sum(nil)), created: s.now()}, 0, nil
}

// commitItem is one photo of photosV2.commit.
type commitItem struct {
	PhotoID string `json:"photo_id"`
	Token   string `json:"token"`
	Comment string `json:"comment,omitempty"`
}

// photosCommit puts uploaded photos into their album: one given by photo_id
// and token, or several as a JSON array in photos. Committing twice is
// harmless.
func photosCommit(_ context.Context, inv *invocation) (any, error) {
	var items []commitItem
	switch {
	case inv.param("photos") != "":
		if err := json.Unmarshal([]byte(inv.param("photos")), &items); err != nil || len(items) == 0 {
			return nil, invalidParam("photos", `want a JSON array of {"photo_id", "token"}`)
		}
	case inv.param("photo_id") != "" && inv.param("token") != "":
		items = []commitItem{{PhotoID: inv.param("photo_id"), Token: inv.param("token"), Comment: inv.param("comment")}}
	case inv.param("photo_id") != "":
		return nil, missingParam("token")
	default:
		return nil, missingParam("photo_id")
	}
	user, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	ps := &inv.srv.photos
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var found []*photo
	for i, it := range items {
		p := ps.byTokenLocked(it.Token)
		if p == nil || p.id != it.PhotoID {
			return nil, errorf(okru.CodeParamPhotoID, "Photo %d (%s): no uploaded photo has this id and token", i, it.PhotoID)
		}
		if p.user != user {
			return nil, errorf(okru.CodePermissionDenied, "Photo %s was uploaded by another user", it.PhotoID)
		}
		found = append(found, p)
	}
	out := make([]map[string]string, len(found))
	for i, p := range found {
		p.committed = true
		p.commits++
		if items[i].Comment != "" {
			p.comment = items[i].Comment
		}
		out[i] = map[string]string{"photo_id": p.id, "assigned_photo_id": p.id, "status": "SUCCESS"}
	}
	return map[string]any{"photos": out}, nil
}

// photoJSON is one photo of photos.getPhotos.
type photoJSON struct {
	ID        string `json:"id"`
	AlbumID   string `json:"album_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	GroupID   string `json:"group_id,omitempty"`
	CreatedMS int64  `json:"created_ms"`
	Text      string `json:"text,omitempty"` // the caption given at commit
}

// photosGetPhotos pages through the photos of an album (aid), of a group
// (gid, photos outside albums) or of a user (fid or uid or the session's,
// photos outside albums): the seeded ones, then the committed uploads.
func photosGetPhotos(_ context.Context, inv *invocation) (any, error) {
	user, err := inv.subject("fid", "uid")
	if err != nil {
		return nil, err
	}
	album, group, err := inv.photoPlace(user)
	if err != nil {
		return nil, err
	}
	s := inv.srv
	g := s.graph
	var list []photoJSON
	owner := func(j *photoJSON) {
		switch {
		case group >= 0:
			j.GroupID = g.groups[group].gid
		default:
			j.UserID = g.users[user].uid
		}
		if album >= 0 {
			j.AlbumID = g.albums[album].aid
		}
	}
	if album >= 0 {
		for n := range g.albums[album].photos {
			j := photoJSON{ID: strconv.FormatUint(seededPhotoBase+uint64(album)*1000+uint64(n), 10),
				CreatedMS: referenceTime.Add(-time.Duration(n+1) * time.Hour).UnixMilli()}
			owner(&j)
			list = append(list, j)
		}
	}
	s.photos.mu.Lock()
	var uploaded []*photo
	for _, p := range s.photos.byID {
		if p.committed && p.album == album && p.group == group && (group >= 0 || p.user == user) {
			uploaded = append(uploaded, p)
		}
	}
	s.photos.mu.Unlock()
	slices.SortFunc(uploaded, func(a, b *photo) int { return strings.Compare(a.id, b.id) })
	for _, p := range uploaded {
		j := photoJSON{ID: p.id, CreatedMS: p.created.UnixMilli(), Text: p.comment}
		owner(&j)
		list = append(list, j)
	}
	scope := fmt.Sprintf("photos:%d:%d:%d", user, album, group)
	p, err := inv.anchorPage(scope, len(list), 20, 100)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"photos": list[p.start:p.end], "anchor": p.anchor, "has_more": p.hasMore}
	if inv.param("detectTotalCount") == "true" {
		out["totalCount"] = len(list)
	}
	return out, nil
}

// photoTokens reads the tokens of a photo media item,
// {"type": "photo", "list": [{"id": token}, ...]}.
func photoTokens(item map[string]any) ([]string, error) {
	list, _ := item["list"].([]any)
	if len(list) == 0 {
		return nil, invalidParam("attachment", `a "photo" media item needs a non-empty "list" of {"id": token}`)
	}
	out := make([]string, len(list))
	for i, el := range list {
		obj, _ := el.(map[string]any)
		tok, _ := obj["id"].(string)
		if tok == "" {
			return nil, invalidParam("attachment", fmt.Sprintf(`photo %d of the "list" needs an "id": the token of an uploaded photo`, i))
		}
		out[i] = tok
	}
	return out, nil
}

// validatePhotoMedia accepts tokens of photos the topic's author uploaded.
func validatePhotoMedia(inv *invocation, item map[string]any) error {
	tokens, err := photoTokens(item)
	if err != nil {
		return err
	}
	author, err := inv.subject("uid")
	if err != nil {
		return err
	}
	ps := &inv.srv.photos
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, tok := range tokens {
		p := ps.byTokenLocked(tok)
		switch {
		case p == nil:
			return invalidParam("attachment", fmt.Sprintf("photo %d: the token is not one of an uploaded photo; upload it first", i))
		case p.user != author:
			return errorf(okru.CodePermissionDenied, "photo %d was uploaded by another user", i)
		}
	}
	return nil
}

// storedPhotoMedia replaces the tokens by photo refs, as ok.ru shows photo
// items: {"type": "photo", "photo_refs": ["photo:<id>", ...]}.
func storedPhotoMedia(inv *invocation, item map[string]any) json.RawMessage {
	tokens, _ := photoTokens(item)
	refs := make([]string, 0, len(tokens))
	ps := &inv.srv.photos
	ps.mu.Lock()
	for _, tok := range tokens {
		if p := ps.byTokenLocked(tok); p != nil {
			refs = append(refs, "photo:"+p.id)
		}
	}
	ps.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"type": "photo", "photo_refs": refs})
	return b
}

// UploadedPhoto is a photo uploaded to the sandbox, as tests inspect it.
type UploadedPhoto struct {
	ID        string
	AlbumID   string // "" outside an album
	GroupID   string // "" for a user's photo
	UserID    string // the uploader
	SHA256    string // of the content, hex: tells whether a file was uploaded twice
	Size      int64
	Committed bool
	Commits   int    // photosV2.commit calls that named the photo
	Comment   string // the caption given at commit
}

// UploadedPhotos lists the uploaded photos, committed or not, by id.
func (s *Server) UploadedPhotos() []UploadedPhoto {
	g := s.graph
	s.photos.mu.Lock()
	defer s.photos.mu.Unlock()
	out := make([]UploadedPhoto, 0, len(s.photos.byID))
	for _, p := range s.photos.byID {
		u := UploadedPhoto{ID: p.id, UserID: g.users[p.user].uid, SHA256: p.sum, Size: p.size,
			Committed: p.committed, Commits: p.commits, Comment: p.comment}
		if p.album >= 0 {
			u.AlbumID = g.albums[p.album].aid
		}
		if p.group >= 0 {
			u.GroupID = g.groups[p.group].gid
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b UploadedPhoto) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// GroupAlbums lists the ids of a group's albums; every group has at
// least one.
func (s *Server) GroupAlbums(gid string) []string {
	var out []string
	for _, a := range s.graph.albums {
		if a.group >= 0 && s.graph.groups[a.group].gid == gid {
			out = append(out, a.aid)
		}
	}
	return out
}

// DemoGroups lists the ids of the groups the demo user belongs to.
func (s *Server) DemoGroups() []string {
	var out []string
	for i := range demoGroups {
		if i < len(s.graph.groups) {
			out = append(out, s.graph.groups[i].gid)
		}
	}
	return out
}

// committedByAlbum counts the committed uploads of each album, so that an
// album's photos_count follows commits as photos.getPhotos does.
func (ps *photoStore) committedByAlbum() map[int32]int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := map[int32]int{}
	for _, p := range ps.byID {
		if p.committed && p.album >= 0 {
			n[p.album]++
		}
	}
	return n
}

// photosGetAlbums lists the albums of a group (gid) or of a user (fid, uid
// or the session's), in one page: {"albums": [{"aid", "title", ...}],
// "hasMore": false}.
func photosGetAlbums(_ context.Context, inv *invocation) (any, error) {
	user, err := inv.subject("fid", "uid")
	if err != nil {
		return nil, err
	}
	group := int32(-1)
	if gid := inv.param("gid"); gid != "" {
		if group, err = inv.groupByID("gid", gid); err != nil {
			return nil, err
		}
	}
	g := inv.graph()
	committed := inv.srv.photos.committedByAlbum()
	albums := []map[string]any{}
	for i, a := range g.albums {
		count := a.photos + committed[int32(i)]
		switch {
		case group >= 0 && a.group == group:
			albums = append(albums, map[string]any{"aid": a.aid, "title": a.title, "group_id": g.groups[group].gid, "photos_count": count})
		case group < 0 && a.group < 0 && a.user == user:
			albums = append(albums, map[string]any{"aid": a.aid, "title": a.title, "user_id": g.users[user].uid, "photos_count": count})
		}
	}
	return map[string]any{"albums": albums, "hasMore": false}, nil
}
