package okru_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// fakeMP4 returns size bytes that sniff as an MP4 video.
func fakeMP4(size int) []byte {
	b := make([]byte, size)
	copy(b, []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"))
	for i := 24; i < size; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

// cutOnce cuts the body of the nth part request halfway.
type cutOnce struct {
	next http.RoundTripper
	nth  int32
	seen atomic.Int32
}

func (c *cutOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if cr := r.Header.Get("Content-Range"); cr != "" && !strings.Contains(cr, "*") && c.seen.Add(1) == c.nth {
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, r.ContentLength/2), errReader{}))
	}
	return c.next.RoundTrip(r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection cut") }

// TestUploadVideo uploads a video in parts, one of them cut halfway and
// resumed, updates it and shows it in a topic.
func TestUploadVideo(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 17})
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess, okru.ScopeVideoContent))
	if err != nil {
		t.Fatal(err)
	}
	cut := &cutOnce{next: http.DefaultTransport, nth: 2}
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited, HTTPClient: &http.Client{Transport: cut}})
	data := fakeMP4(100_000)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var progress []int64
	id, err := api.UploadVideo(t.Context(), okru.UploadVideoRequest{File: okru.UploadFile{Path: path}, PartSize: 30_000,
		Progress: func(n int64) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.UpdateVideo(t.Context(), okru.VideoUpdate{VideoID: id, Title: "Clip", Tags: []string{"a", "b"}, Privacy: "PUBLIC"}); err != nil {
		t.Fatal(err)
	}
	vids := srv.UploadedVideos()
	sum := sha256.Sum256(data)
	if len(vids) != 1 || vids[0].ID != id || vids[0].SHA256 != hex.EncodeToString(sum[:]) || vids[0].Title != "Clip" || vids[0].Tags != "a,b" {
		t.Fatalf("videos %+v: want %s with the file's content and title", vids, id)
	}
	if cut.seen.Load() < 5 || progress[len(progress)-1] != int64(len(data)) {
		t.Errorf("%d parts sent, progress %v: want 4 parts and a resent one, ending at %d", cut.seen.Load(), progress, len(data))
	}
	att := map[string]any{"media": []any{map[string]any{"type": "movie", "list": []any{map[string]any{"id": id}}}}}
	if _, err := api.Call(t.Context(), "mediatopic.post", okru.Params{"type": "USER", "attachment": att}); err != nil {
		t.Fatalf("post the video: %v", err)
	}
}

// TestUploadVideoRefused: a file that is not a video is refused by the
// upload URL, with an error that does not show the upload URL.
func TestUploadVideoRefused(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 17})
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess, okru.ScopeVideoContent))
	if err != nil {
		t.Fatal(err)
	}
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	_, err = api.UploadVideo(t.Context(), okru.UploadVideoRequest{File: okru.UploadFile{Name: "notes.txt", Reader: bytes.NewReader([]byte("hello, world"))}, Size: 12})
	if err == nil || !strings.Contains(err.Error(), "not a video") || strings.Contains(err.Error(), "/upload/video?t=") {
		t.Fatalf("err = %v, want a refusal without the upload URL", err)
	}
}

// TestResumeVideo: an upload stopped after two parts (as a process killed
// there stops) is finished by another client from the target it was told
// before the first byte: the rest is sent, no byte twice. Resuming a whole
// video sends nothing; an upload URL that forgot the video is
// ErrUploadGone; a target refused by Reserved is never sent a byte.
func TestResumeVideo(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 17})
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess, okru.ScopeVideoContent))
	if err != nil {
		t.Fatal(err)
	}
	data := fakeMP4(100_000)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var target okru.VideoTarget
	first := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	_, err = first.UploadVideo(ctx, okru.UploadVideoRequest{File: okru.UploadFile{Path: path}, PartSize: 30_000,
		Reserved: func(vt okru.VideoTarget) error { target = vt; return nil },
		Progress: func(n int64) {
			if n >= 60_000 {
				stop()
			}
		}})
	if !errors.Is(err, context.Canceled) || target.VideoID == "" || target.Size != int64(len(data)) {
		t.Fatalf("stopped upload: %v, target %+v", err, target)
	}

	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	var progress []int64
	req := okru.UploadVideoRequest{File: okru.UploadFile{Path: path}, PartSize: 30_000, Progress: func(n int64) { progress = append(progress, n) }}
	if err := api.ResumeVideo(t.Context(), target, req); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	vids := srv.UploadedVideos()
	if len(vids) != 1 || vids[0].ID != target.VideoID || vids[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("videos %+v: want %s whole", vids, target.VideoID)
	}
	if v := vids[0]; v.Posted != int64(len(data)) || v.Queries != 1 || len(progress) == 0 || progress[0] != 60_000 {
		t.Errorf("%d bytes posted after %d questions, progress %v: want each byte once, resumed at 60000", v.Posted, v.Queries, progress)
	}
	if err := api.ResumeVideo(t.Context(), target, req); err != nil {
		t.Fatal(err)
	}
	if v := srv.UploadedVideos()[0]; v.Posted != int64(len(data)) || v.Queries != 2 {
		t.Errorf("resuming a whole video posted %d more bytes", v.Posted-int64(len(data)))
	}
	if err := api.UpdateVideo(t.Context(), okru.VideoUpdate{VideoID: target.VideoID, Title: "Clip"}); err != nil {
		t.Errorf("update the resumed video: %v", err)
	}

	other := req
	other.Size = 5
	if err := api.ResumeVideo(t.Context(), target, other); err == nil || !strings.Contains(err.Error(), "the file has 5 bytes") {
		t.Errorf("resume with another size: %v", err)
	}

	srv.Reset() // forgets the video and its upload URL
	err = api.ResumeVideo(t.Context(), target, req)
	if !errors.Is(err, okru.ErrUploadGone) || strings.Contains(err.Error(), target.UploadURL) {
		t.Errorf("resume after the upload URL forgot the video: %v; want ErrUploadGone, without the URL", err)
	}

	refuse := errors.New("the journal is full")
	_, err = api.UploadVideo(t.Context(), okru.UploadVideoRequest{File: okru.UploadFile{Path: path},
		Reserved: func(okru.VideoTarget) error { return refuse }})
	if !errors.Is(err, refuse) {
		t.Errorf("a target Reserved refused: %v", err)
	}
	if vids := srv.UploadedVideos(); len(vids) != 1 || vids[0].Posted != 0 {
		t.Errorf("videos %+v: want one reserved, sent no byte", vids)
	}
}
