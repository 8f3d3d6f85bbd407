package okrutest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/okru-run/okru-run/okru"
)

// Video uploads: video.getUploadUrl reserves a video id for a file of a
// given size and answers an upload URL; the client sends the file to it in
// parts, each a POST of raw bytes with "Content-Range: bytes FIRST-LAST/SIZE"
// (one part for a small file), and may ask how much arrived with
// "Content-Range: bytes */SIZE" and an empty body, to resume after a cut
// connection; every answer is {"video_id", "received"}. video.update sets
// the title, description, tags and privacy; a mediatopic.post attachment
// {"type": "movie", "list": [{"id": video_id}]} shows the video in a topic.
// Content is hashed as it arrives, never kept.

const (
	uploadedVideoBase = 890_000_000_000_000
	// maxVideoSize bounds a video file; maxVideoPart one request.
	maxVideoSize = 4 << 30
	maxVideoPart = 64 << 20
	videoPath    = "/upload/video"
)

// video is an uploaded, or uploading, video.
type video struct {
	id          string
	user, group int32 // group is -1 for a user's video
	name        string
	size        int64
	received    int64
	hash        hash.Hash
	sum         string // sha256 of the content, once complete
	ticket      string
	title       string
	description string
	tags        string
	privacy     string
	updates     int
	posted      int64 // bytes read from parts, kept or not
	queries     int   // "bytes */SIZE" questions
}

type videoStore struct {
	mu       sync.Mutex
	seq      uint64
	byID     map[string]*video
	byTicket map[string]*video
}

func (vs *videoStore) reset() {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.byID, vs.byTicket = nil, nil
}

func init() {
	registerMethod("video.getUploadUrl", methodSpec{handle: videoGetUploadURL})
	registerMethod("video.update", methodSpec{handle: videoUpdate})
	registerRoute("POST "+videoPath, func(s *Server) http.Handler { return http.HandlerFunc(s.serveVideoUpload) })
	registerRoute("GET /__sandbox/videos", func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			vids := s.UploadedVideos()
			if vids == nil {
				vids = []UploadedVideo{}
			}
			writeJSON(w, http.StatusOK, vids)
		})
	})
	registerMedia("movie", validateMovieMedia)
}

// videoGetUploadURL reserves a video id: file_size is required, gid names
// a group the user is a member of.
func videoGetUploadURL(_ context.Context, inv *invocation) (any, error) {
	user, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	if inv.user >= 0 && user != inv.user {
		return nil, errorf(okru.CodePermissionDenied, "a session can upload only as its own user")
	}
	if inv.param("file_size") == "" {
		return nil, missingParam("file_size")
	}
	size, err := strconv.ParseInt(inv.param("file_size"), 10, 64)
	if err != nil || size <= 0 {
		return nil, invalidParam("file_size", "want the file's size in bytes, a positive number")
	}
	if size > maxVideoSize {
		return nil, errorf(okru.CodeParam, "The video has %d bytes, more than %d", size, int64(maxVideoSize))
	}
	group := int32(-1)
	if gid := inv.param("gid"); gid != "" {
		if group, err = inv.groupByID("gid", gid); err != nil {
			return nil, err
		}
		if !inv.graph().groups[group].isMember(user) {
			return nil, errorf(okru.CodePermissionDenied, "user %s is not a member of group %s", inv.graph().users[user].uid, gid)
		}
	}
	s := inv.srv
	vs := &s.videos
	ticket := randomToken(32)
	vs.mu.Lock()
	if vs.byID == nil {
		vs.byID, vs.byTicket = map[string]*video{}, map[string]*video{}
	}
	vs.seq++
	v := &video{id: strconv.FormatUint(uploadedVideoBase+vs.seq, 10), user: user, group: group,
		name: inv.param("file_name"), size: size, hash: sha256.New(), ticket: ticket}
	vs.byID[v.id], vs.byTicket[ticket] = v, v
	vs.mu.Unlock()
	return map[string]any{"upload_url": s.URL + videoPath + "?t=" + ticket, "video_id": v.id}, nil
}

// serveVideoUpload takes one part of a video, or answers how much arrived.
func (s *Server) serveVideoUpload(w http.ResponseWriter, r *http.Request) {
	vs := &s.videos
	vs.mu.Lock()
	v := vs.byTicket[queryParams(r).Get("t")]
	vs.mu.Unlock()
	if v == nil {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "The upload URL is unknown: call video.getUploadUrl again"))
		return
	}
	first, last, total, query, err := parseContentRange(r.Header.Get("Content-Range"))
	switch {
	case err != nil:
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "%v", err))
		return
	case total != v.size:
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "Content-Range says %d bytes, video.getUploadUrl said %d", total, v.size))
		return
	case query:
		vs.mu.Lock()
		v.queries++
		vs.mu.Unlock()
		s.videoAnswer(w, v, http.StatusOK)
		return
	case last-first+1 > maxVideoPart:
		uploadError(w, http.StatusRequestEntityTooLarge, errorf(okru.CodeParam, "A part holds at most %d bytes", maxVideoPart))
		return
	}
	// Parts arrive in order: one that does not start where the received
	// bytes end is refused with what arrived, so that the client resumes.
	vs.mu.Lock()
	received := v.received
	vs.mu.Unlock()
	if first != received {
		s.videoAnswer(w, v, http.StatusRequestedRangeNotSatisfiable)
		return
	}
	want := last - first + 1
	var head []byte
	if first == 0 {
		head = make([]byte, min(512, want))
		k, err := io.ReadFull(r.Body, head)
		s.videoPosted(v, int64(k))
		if err != nil {
			uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "The part is shorter than its Content-Range"))
			return
		}
		if ct := http.DetectContentType(head); !strings.HasPrefix(ct, "video/") {
			uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "The file is not a video (%s)", ct))
			return
		}
	}
	// The part is hashed into a copy, so that a part cut halfway leaves
	// the video as it was.
	vs.mu.Lock()
	h, err := cloneHash(v.hash)
	vs.mu.Unlock()
	if err != nil {
		uploadError(w, http.StatusInternalServerError, errorf(okru.CodeUnknown, "%v", err))
		return
	}
	h.Write(head)
	n, err := io.Copy(h, io.LimitReader(r.Body, want-int64(len(head))+1))
	s.videoPosted(v, n)
	if err != nil || n+int64(len(head)) != want {
		uploadError(w, http.StatusBadRequest, errorf(okru.CodeParam, "The part does not hold the %d bytes of its Content-Range", want))
		return
	}
	vs.mu.Lock()
	if v.received == first {
		v.hash, v.received = h, last+1
		if v.received == v.size {
			v.sum = hex.EncodeToString(h.Sum(nil))
		}
	}
	vs.mu.Unlock()
	s.videoAnswer(w, v, http.StatusOK)
}

// videoPosted counts bytes read from a part, so that tests see what a
// client sent again.
func (s *Server) videoPosted(v *video, n int64) {
	s.videos.mu.Lock()
	v.posted += n
	s.videos.mu.Unlock()
}

func (s *Server) videoAnswer(w http.ResponseWriter, v *video, status int) {
	s.videos.mu.Lock()
	received := v.received
	s.videos.mu.Unlock()
	writeJSON(w, status, map[string]any{"video_id": v.id, "received": received})
}

// cloneHash copies a sha256 state.
func cloneHash(h hash.Hash) (hash.Hash, error) {
	m, ok := h.(interface {
		MarshalBinary() ([]byte, error)
	})
	if !ok {
		return nil, errors.New("cannot copy the hash")
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := sha256.New()
	if err := c.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return c, nil
}

// parseContentRange reads "bytes FIRST-LAST/TOTAL" or "bytes */TOTAL" (a
// query).
func parseContentRange(h string) (first, last, total int64, query bool, err error) {
	spec, ok := strings.CutPrefix(h, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	if !ok || !ok2 {
		return 0, 0, 0, false, fmt.Errorf("send each part with Content-Range: bytes FIRST-LAST/SIZE, got %q", h)
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total <= 0 {
		return 0, 0, 0, false, fmt.Errorf("bad size in Content-Range %q", h)
	}
	if rng == "*" {
		return 0, 0, total, true, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last >= total {
		return 0, 0, 0, false, fmt.Errorf("bad range in Content-Range %q", h)
	}
	return first, last, total, false, nil
}

// videoPrivacy are the privacy values video.update takes.
var videoPrivacy = []string{"PUBLIC", "FRIENDS", "PRIVATE", "GROUP_MEMBERS"}

// videoUpdate sets a whole uploaded video's title, description, tags and
// privacy; updating again replaces them.
func videoUpdate(_ context.Context, inv *invocation) (any, error) {
	user, err := inv.subject("uid")
	if err != nil {
		return nil, err
	}
	vid := inv.param("vid")
	if vid == "" {
		return nil, missingParam("vid")
	}
	if p := inv.param("privacy"); p != "" && !slices.Contains(videoPrivacy, p) {
		return nil, invalidParam("privacy", "want one of "+strings.Join(videoPrivacy, ", "))
	}
	vs := &inv.srv.videos
	vs.mu.Lock()
	defer vs.mu.Unlock()
	v := vs.byID[vid]
	switch {
	case v == nil:
		return nil, errorf(okru.CodeParam, "No video %s", vid)
	case v.user != user:
		return nil, errorf(okru.CodePermissionDenied, "Video %s was uploaded by another user", vid)
	case v.received != v.size:
		return nil, errorf(okru.CodeParam, "Video %s is not fully uploaded: %d of %d bytes", vid, v.received, v.size)
	}
	for name, field := range map[string]*string{"title": &v.title, "description": &v.description, "tags": &v.tags, "privacy": &v.privacy} {
		if val, ok := inv.params[name]; ok {
			*field = val
		}
	}
	v.updates++
	return true, nil
}

// validateMovieMedia accepts ids of whole videos the topic's author
// uploaded: {"type": "movie", "list": [{"id": video_id}]}.
func validateMovieMedia(inv *invocation, item map[string]any) error {
	list, _ := item["list"].([]any)
	if len(list) == 0 {
		return invalidParam("attachment", `a "movie" media item needs a non-empty "list" of {"id": video_id}`)
	}
	author, err := inv.subject("uid")
	if err != nil {
		return err
	}
	vs := &inv.srv.videos
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for i, el := range list {
		obj, _ := el.(map[string]any)
		id, _ := obj["id"].(string)
		v := vs.byID[id]
		switch {
		case v == nil:
			return invalidParam("attachment", fmt.Sprintf("movie %d: no uploaded video has id %q", i, id))
		case v.user != author:
			return errorf(okru.CodePermissionDenied, "movie %d was uploaded by another user", i)
		case v.received != v.size:
			return invalidParam("attachment", fmt.Sprintf("movie %d is not fully uploaded", i))
		}
	}
	return nil
}

// UploadedVideo is a video uploaded to the sandbox, as tests inspect it
// (GET /__sandbox/videos lists them as JSON).
type UploadedVideo struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	GroupID     string `json:"group_id,omitempty"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Received    int64  `json:"received"`         // bytes kept: parts that arrived whole
	SHA256      string `json:"sha256,omitempty"` // of the content, once complete
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Tags        string `json:"tags,omitempty"`
	Privacy     string `json:"privacy,omitempty"`
	Updates     int    `json:"updates"` // video.update calls
	// Posted counts every byte the upload URL read, with those of parts
	// cut halfway or sent again: Posted - Size is what a client resent.
	Posted  int64 `json:"posted"`
	Queries int   `json:"queries"` // "how much arrived" questions
}

// UploadedVideos lists the videos, by id.
func (s *Server) UploadedVideos() []UploadedVideo {
	g := s.graph
	s.videos.mu.Lock()
	defer s.videos.mu.Unlock()
	var out []UploadedVideo
	for _, v := range s.videos.byID {
		u := UploadedVideo{ID: v.id, UserID: g.users[v.user].uid, Name: v.name, Size: v.size, Received: v.received,
			SHA256: v.sum, Title: v.title, Description: v.description, Tags: v.tags, Privacy: v.privacy, Updates: v.updates,
			Posted: v.posted, Queries: v.queries}
		if v.group >= 0 {
			u.GroupID = g.groups[v.group].gid
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b UploadedVideo) int { return strings.Compare(a.ID, b.ID) })
	return out
}
