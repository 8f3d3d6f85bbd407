package okru_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// pngBytes returns a small valid PNG image of the given shade.
func pngBytes(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	img.Set(0, 0, color.Gray{Y: ^shade})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// photoAPI logs the demo user in with the scopes photos need.
func photoAPI(t *testing.T, srv *okrutest.Server) *okru.API {
	t.Helper()
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess, okru.ScopePhotoContent))
	if err != nil {
		t.Fatal(err)
	}
	return okru.New(s, &okru.Options{Rate: okru.Unlimited})
}

// TestUploadPhotosThenTopic uploads several files, from readers and from
// disk, posts a topic holding them, commits them and finds them among the
// user's photos.
func TestUploadPhotosThenTopic(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 13})
	api := photoAPI(t, srv)
	path := filepath.Join(t.TempDir(), "third.png")
	if err := os.WriteFile(path, pngBytes(t, 200), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := &closeCounter{Reader: bytes.NewReader(pngBytes(t, 40))}
	tokens, err := api.UploadPhotos(t.Context(), okru.UploadPhotosRequest{Files: []okru.UploadFile{
		{Name: "first.png", Reader: bytes.NewReader(pngBytes(t, 10))},
		{Name: "second.png", Reader: closed},
		{Path: path},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 3 || closed.n != 1 {
		t.Fatalf("tokens %v, reader closed %d times; want 3 tokens and one close", tokens, closed.n)
	}
	ids := make([]string, len(tokens))
	for i, tk := range tokens {
		if tk.PhotoID == "" || tk.Token == "" || slices.Contains(ids, tk.PhotoID) {
			t.Fatalf("tokens %v: want distinct ids with tokens", tokens)
		}
		ids[i] = tk.PhotoID
	}

	att := map[string]any{"media": []any{
		map[string]any{"type": "text", "text": "Три фото"},
		okru.PhotoAttachment(tokens),
	}}
	var topicID string
	if err := api.CallInto(t.Context(), "mediatopic.post", okru.Params{"type": "USER", "attachment": att}, &topicID); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Topics []struct {
			ID    string `json:"id"`
			Media []struct {
				Type      string   `json:"type"`
				Text      string   `json:"text"`
				PhotoRefs []string `json:"photo_refs"`
			} `json:"media"`
		} `json:"media_topics"`
	}
	if err := api.CallInto(t.Context(), "mediatopic.getByIds", okru.Params{"topic_ids": topicID}, &got); err != nil {
		t.Fatal(err)
	}
	wantRefs := []string{"photo:" + ids[0], "photo:" + ids[1], "photo:" + ids[2]}
	if len(got.Topics) != 1 || len(got.Topics[0].Media) != 2 || got.Topics[0].Media[1].Type != "photo" ||
		!slices.Equal(got.Topics[0].Media[1].PhotoRefs, wantRefs) {
		t.Fatalf("topic %+v, want a text and the photos %v", got, wantRefs)
	}

	committed, err := api.CommitPhotos(t.Context(), tokens)
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != 3 || committed[2].PhotoID != ids[2] || committed[2].Status != "SUCCESS" {
		t.Errorf("commit answered %+v", committed)
	}
	var photos struct {
		Photos []struct {
			ID string `json:"id"`
		} `json:"photos"`
	}
	if err := api.CallInto(t.Context(), "photos.getPhotos", nil, &photos); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range photos.Photos {
		listed = append(listed, p.ID)
	}
	if !slices.Equal(listed, ids) {
		t.Errorf("photos.getPhotos lists %v, want %v", listed, ids)
	}
}

type closeCounter struct {
	io.Reader
	n int
}

func (c *closeCounter) Close() error { c.n++; return nil }

// TestUploadStreams shows that the upload does not read a file whole
// before sending it: the reader hands out its second half only once the
// transport is already sending the request body. A client that buffered
// the body first would never get there.
func TestUploadStreams(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 14})
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess, okru.ScopePhotoContent))
	if err != nil {
		t.Fatal(err)
	}
	sending := make(chan struct{})
	var once sync.Once
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			r.Body = &firstRead{ReadCloser: r.Body, onRead: func() { once.Do(func() { close(sending) }) }}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited, HTTPClient: hc})
	img := pngBytes(t, 90)
	big := append(img, bytes.Repeat([]byte{0}, 1<<20)...)
	r := &gatedReader{first: big[:len(big)/2], rest: big[len(big)/2:], gate: sending}
	tokens, err := api.UploadPhotos(t.Context(), okru.UploadPhotosRequest{Files: []okru.UploadFile{{Name: "big.png", Reader: r}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 {
		t.Fatalf("tokens %v", tokens)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// firstRead calls onRead when the transport first reads the body.
type firstRead struct {
	io.ReadCloser
	onRead func()
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.onRead()
	return f.ReadCloser.Read(p)
}

// gatedReader gives first at once and rest only after gate is closed.
type gatedReader struct {
	first, rest []byte
	gate        <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.first) > 0 {
		n := copy(p, g.first)
		g.first = g.first[n:]
		return n, nil
	}
	select {
	case <-g.gate:
	case <-time.After(30 * time.Second):
		return 0, errors.New("the upload read the whole file before sending any of it")
	}
	if len(g.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}

func TestUploadFailures(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 15})
	api := photoAPI(t, srv)
	img := func() io.Reader { return bytes.NewReader(pngBytes(t, 1)) }
	tests := []struct {
		name   string
		req    okru.UploadPhotosRequest
		code   okru.Code
		inText string
		sent   bool // whether getUploadUrl was called
	}{
		{name: "no files", inText: "give 1 to 40 files"},
		{name: "missing file", req: okru.UploadPhotosRequest{Files: []okru.UploadFile{{Reader: img()}, {Path: filepath.Join(t.TempDir(), "none.jpg")}}},
			inText: "file 2"},
		{name: "neither reader nor path", req: okru.UploadPhotosRequest{Files: []okru.UploadFile{{Name: "x.jpg"}}}, inText: "neither a Reader nor a Path"},
		{name: "not an image", req: okru.UploadPhotosRequest{Files: []okru.UploadFile{{Reader: img()}, {Name: "notes.txt", Reader: strings.NewReader("hello, world")}}},
			code: okru.CodePhotoInvalidFormat, inText: "pic2 is not an image", sent: true},
		{name: "empty file", req: okru.UploadPhotosRequest{Files: []okru.UploadFile{{Name: "empty.jpg", Reader: strings.NewReader("")}}},
			code: okru.CodePhotoNoImage, inText: "pic1 is empty", sent: true},
		{name: "unknown album", req: okru.UploadPhotosRequest{AlbumID: "1", Files: []okru.UploadFile{{Reader: img()}}},
			code: okru.CodeParamAlbumID, inText: "photosV2.getUploadUrl", sent: true},
		{name: "reader fails", req: okru.UploadPhotosRequest{Files: []okru.UploadFile{{Name: "a.png", Reader: io.MultiReader(img(), failingReader{})}}},
			inText: "disk on fire", sent: true},
	}
	var mu sync.Mutex // the call log is shared
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			before := len(callsOf(srv, "photosV2.getUploadUrl"))
			_, err := api.UploadPhotos(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.inText) {
				t.Fatalf("err = %v, want %q", err, tt.inText)
			}
			if tt.code != 0 && !errors.Is(err, tt.code) {
				t.Errorf("err = %v, want code %d", err, tt.code)
			}
			if sent := len(callsOf(srv, "photosV2.getUploadUrl")) > before; sent != tt.sent {
				t.Errorf("getUploadUrl called: %v, want %v", sent, tt.sent)
			}
			t.Log(err)
			if strings.Contains(err.Error(), "/upload/") || strings.Contains(err.Error(), "?t=") {
				t.Errorf("the error shows the upload URL: %v", err)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// BenchmarkUploadPhotos uploads one photo of each size through UploadPhotos
// and through a baseline that builds the multipart body in memory first.
// B/op stays flat for UploadPhotos as the file grows and follows the file
// for the baseline.
func BenchmarkUploadPhotos(b *testing.B) {
	srv := okrutest.NewServer(okrutest.Config{Seed: 16, Users: 20})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)),
		&okru.Options{Rate: okru.Unlimited})
	for _, size := range []int{256 << 10, 4 << 20} {
		file := append(pngBytes(b, 5), bytes.Repeat([]byte{7}, size)...)
		b.Run(fmt.Sprintf("UploadPhotos/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				if _, err := api.UploadPhotos(b.Context(), okru.UploadPhotosRequest{
					Files: []okru.UploadFile{{Name: "p.png", Reader: bytes.NewReader(file)}}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("buffered-baseline/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				var target struct {
					UploadURL string `json:"upload_url"`
				}
				if err := api.CallInto(b.Context(), "photosV2.getUploadUrl", nil, &target); err != nil {
					b.Fatal(err)
				}
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				part, _ := mw.CreateFormFile("pic1", "p.png")
				part.Write(file)
				mw.Close()
				resp, err := http.Post(target.UploadURL, mw.FormDataContentType(), &body)
				if err != nil {
					b.Fatal(err)
				}
				var answer json.RawMessage
				json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("upload: %s", answer)
				}
			}
		})
	}
}
