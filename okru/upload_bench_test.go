package okru_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// Uploads against bare net/http loops that send the same bytes to the same
// sandbox upload URLs, in one run:
//
//	go test -run '^$' -bench 'Upload' -benchmem ./okru
//
// Each pair reports MB/s (the goal: okru at least 0.9 of the bare loop)
// and peak-heap-MiB, the most the live heap grew during the loop (the
// sandbox, in the same process, included): it stays flat from a 1 MiB to
// a 100 MiB file because files are streamed, never read whole.

// benchFile writes size bytes starting with head, the rest pseudo-random.
func benchFile(b *testing.B, name string, head []byte, size int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rnd := rand.New(rand.NewPCG(uint64(size), 1))
	buf := make([]byte, 1<<20)
	copy(buf, head)
	for written := 0; written < size; {
		n := min(len(buf), size-written)
		if written > 0 {
			for i := 0; i < n; i += 8 {
				v := rnd.Uint64()
				for k := 0; k < 8 && i+k < n; k++ {
					buf[i+k] = byte(v >> (8 * k))
				}
			}
		}
		if _, err := f.Write(buf[:n]); err != nil {
			b.Fatal(err)
		}
		written += n
	}
	return path
}

// peakHeap samples the live heap until stop is called, which returns how
// far it grew above its level at the start, in MiB.
func peakHeap() (stop func() float64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		p := peak.Load()
		if p < base {
			return 0
		}
		return float64(p-base) / (1 << 20)
	}
}

func benchUploadAPI(b *testing.B) (*okrutest.Server, *okru.API) {
	srv := benchSandbox(b)
	app, demo := srv.App(), srv.DemoUser()
	s := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	return srv, okru.New(s, &okru.Options{Rate: okru.Unlimited})
}

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
var mp4Head = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")

func BenchmarkUploadPhoto(b *testing.B) {
	_, api := benchUploadAPI(b)
	for _, size := range []int{1 << 20, 8 << 20} {
		path := benchFile(b, "photo.png", pngHead, size)
		label := fmt.Sprintf("%dMiB", size>>20)
		b.Run("okru/"+label, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			stop := peakHeap()
			for b.Loop() {
				if _, err := api.UploadPhotos(b.Context(), okru.UploadPhotosRequest{Files: []okru.UploadFile{{Path: path}}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(stop(), "peak-heap-MiB")
		})
		b.Run("bare/"+label, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			stop := peakHeap()
			for b.Loop() {
				var target struct {
					UploadURL string `json:"upload_url"`
				}
				if err := api.CallInto(b.Context(), "photosV2.getUploadUrl", okru.Params{"count": 1}, &target); err != nil {
					b.Fatal(err)
				}
				pr, pw := io.Pipe()
				mw := multipart.NewWriter(pw)
				go func() {
					f, err := os.Open(path)
					if err == nil {
						var part io.Writer
						if part, err = mw.CreateFormFile("pic1", "photo.png"); err == nil {
							_, err = io.Copy(part, f)
						}
						f.Close()
					}
					if err == nil {
						err = mw.Close()
					}
					pw.CloseWithError(err)
				}()
				resp, err := http.Post(target.UploadURL, mw.FormDataContentType(), pr)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"token"`)) {
					b.Fatalf("upload: %d %s", resp.StatusCode, body)
				}
			}
			b.ReportMetric(stop(), "peak-heap-MiB")
		})
	}
}

func BenchmarkUploadVideo(b *testing.B) {
	_, api := benchUploadAPI(b)
	for _, size := range []int{1 << 20, 100 << 20} {
		path := benchFile(b, "clip.mp4", mp4Head, size)
		label := fmt.Sprintf("%dMiB", size>>20)
		b.Run("okru/"+label, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			stop := peakHeap()
			for b.Loop() {
				if _, err := api.UploadVideo(b.Context(), okru.UploadVideoRequest{File: okru.UploadFile{Path: path}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(stop(), "peak-heap-MiB")
		})
		b.Run("bare/"+label, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			stop := peakHeap()
			for b.Loop() {
				var target struct {
					UploadURL string `json:"upload_url"`
				}
				if err := api.CallInto(b.Context(), "video.getUploadUrl", okru.Params{"file_name": "clip.mp4", "file_size": size}, &target); err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < int64(size); off += okru.DefaultVideoPartSize {
					n := min(okru.DefaultVideoPartSize, int64(size)-off)
					req, _ := http.NewRequest(http.MethodPost, target.UploadURL, io.NewSectionReader(f, off, n))
					req.ContentLength = n
					req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var ans struct{ Received int64 }
					err = json.NewDecoder(resp.Body).Decode(&ans)
					resp.Body.Close()
					if err != nil || ans.Received != off+n {
						b.Fatalf("part at %d: %v, received %d", off, err, ans.Received)
					}
				}
				f.Close()
			}
			b.ReportMetric(stop(), "peak-heap-MiB")
		})
	}
}
