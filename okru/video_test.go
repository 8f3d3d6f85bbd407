package okru_test

import (
	"bytes"
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
