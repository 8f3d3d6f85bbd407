package okru_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// A video upload that a process began and did not finish (it kept the
// target Reserved gave it, before the first byte) is finished by another
// process from the bytes its upload URL holds.
func ExampleAPI_ResumeVideo() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), nil)
	dir, _ := os.MkdirTemp("", "video")
	defer os.RemoveAll(dir)
	clip := filepath.Join(dir, "clip.mp4")
	os.WriteFile(clip, fakeMP4(300_000), 0o600)
	saved := filepath.Join(dir, "target.json")

	// The first process stops (here: its context is cancelled) after two
	// of its three parts.
	ctx, stop := context.WithCancel(context.Background())
	_, err := api.UploadVideo(ctx, okru.UploadVideoRequest{File: okru.UploadFile{Path: clip}, PartSize: 100_000,
		Reserved: func(t okru.VideoTarget) error {
			b, _ := json.Marshal(t)
			return os.WriteFile(saved, b, 0o600) // kept before any byte is sent
		},
		Progress: func(n int64) {
			if n == 200_000 {
				stop()
			}
		}})
	fmt.Println("stopped:", err != nil)

	// Another process finishes it.
	var t okru.VideoTarget
	b, _ := os.ReadFile(saved)
	json.Unmarshal(b, &t)
	err = api.ResumeVideo(context.Background(), t, okru.UploadVideoRequest{File: okru.UploadFile{Path: clip}, PartSize: 100_000,
		Progress: func(n int64) { fmt.Println("the upload URL holds", n) }})
	if err != nil {
		log.Fatal(err)
	}
	v := srv.UploadedVideos()[0]
	fmt.Println("whole:", v.ID == t.VideoID && v.Received == v.Size, "bytes sent:", v.Posted)
	// Output:
	// stopped: true
	// the upload URL holds 200000
	// the upload URL holds 300000
	// whole: true bytes sent: 300000
}
