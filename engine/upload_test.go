package engine

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// testPNG is a small PNG image; shade makes images differ.
func testPNG(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadSandbox is a sandbox, a connector to it and the session block of
// its demo user.
type uploadSandbox struct {
	srv     *okrutest.Server
	session string
}

func newUploadSandbox(t *testing.T) *uploadSandbox {
	t.Helper()
	srv := okrutest.NewServer(okrutest.Config{Seed: 13, Users: 30})
	t.Cleanup(srv.Close)
	app, demo := srv.App(), srv.DemoUser()
	return &uploadSandbox{srv: srv, session: fmt.Sprintf(`
session "main" {
  app_key        = %q
  app_secret_key = %q
  access_token   = %q
  api_url        = %q
  rate_limit     = "unlimited"
}
`, app.Key, app.SecretKey, demo.AccessToken, srv.URL)}
}

// workflowIn writes files into a new folder and compiles src as the
// workflow of that folder.
func workflowIn(t *testing.T, src string, files map[string][]byte) (*Workflow, string) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := lang.LoadSource(filepath.Join(dir, "main.hcl"), []byte(src), dir)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	w, diags := Compile(cfg)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", diags.Error())
	}
	return w, dir
}

func threePhotos(t *testing.T) map[string][]byte {
	return map[string][]byte{"photos/a.png": testPNG(t, 10), "photos/b.png": testPNG(t, 20), "photos/c.png": testPNG(t, 30)}
}

// TestUploadPhotosIntoTopic uploads three photos of a folder for a group
// topic and posts the topic with topic_attachment: the photos are in the
// topic and in no album.
func TestUploadPhotosIntoTopic(t *testing.T) {
	t.Parallel()
	sb := newUploadSandbox(t)
	gid := sb.srv.DemoGroups()[0]
	w, _ := workflowIn(t, sb.session+fmt.Sprintf(`
upload "pics" {
  files    = sort(fileset(".", "photos/*.png"))
  group_id = %q
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "GROUP_THEME"
    gid        = %q
    attachment = topic_attachment("Three photos", upload.pics.result)
  }
}

output "files" { value = upload.pics.result.photos[*].file }
output "topic" { value = call.post.result }
`, gid, gid), threePhotos(t))
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("status %v: %s", res.Status, diags.Error())
	}
	photos := sb.srv.UploadedPhotos()
	if len(photos) != 3 {
		t.Fatalf("%d photos uploaded, want 3", len(photos))
	}
	for _, p := range photos {
		if p.GroupID != gid || p.Committed || p.AlbumID != "" {
			t.Errorf("photo %+v: want one of group %s, uncommitted, in no album", p, gid)
		}
	}
	var files string
	for _, o := range res.Outputs {
		if o.Name == "files" {
			files = lang.FormatValue(o.Value, 0)
		}
	}
	if !strings.Contains(files, "photos/a.png") || !strings.Contains(files, "photos/c.png") {
		t.Errorf("files output %s: want the three paths", files)
	}
	var posted bool
	for _, c := range sb.srv.Calls() {
		if c.Method == "mediatopic.post" {
			posted = c.Code == 0 && strings.Count(c.Params["attachment"], `{"id":`) == 3
		}
	}
	if !posted {
		t.Errorf("no mediatopic.post with three photos was accepted: %+v", sb.srv.Calls())
	}
	if got := rec.count(EventStarted); got != 2 { // the upload and the post
		t.Errorf("%d started events, want 2", got)
	}
}

// TestUploadPhotosIntoAlbum uploads one photo per instance into an album,
// with captions, and commits them.
func TestUploadPhotosIntoAlbum(t *testing.T) {
	t.Parallel()
	sb := newUploadSandbox(t)
	gid := sb.srv.DemoGroups()[0]
	aid := sb.srv.GroupAlbums(gid)[0]
	w, _ := workflowIn(t, sb.session+fmt.Sprintf(`
upload "album" {
  for_each = fileset(".", "photos/*.png")
  files    = [each.value]
  group_id = %q
  album_id = %q
  captions = { (each.value) = "Photo ${each.key}" }
}
`, gid, aid), threePhotos(t))
	res, diags := w.Run(t.Context(), Inputs{}, Options{})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("status %v: %s", res.Status, diags.Error())
	}
	photos := sb.srv.UploadedPhotos()
	if len(photos) != 3 {
		t.Fatalf("%d photos uploaded, want 3", len(photos))
	}
	for _, p := range photos {
		if p.AlbumID != aid || !p.Committed || p.Commits != 1 || !strings.HasPrefix(p.Comment, "Photo photos/") {
			t.Errorf("photo %+v: want it committed once into album %s with a caption", p, aid)
		}
	}
}

// TestUploadBadFiles: every file that cannot be sent is an error naming
// it, before any upload: before the run when the files are known then
// (exit 2, as a plan error), else when the instance starts (exit 1).
func TestUploadBadFiles(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "outside.png")
	if err := os.WriteFile(outside, testPNG(t, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
		setup            func(t *testing.T, dir string)
	}{
		{name: "missing", file: "photos/none.png", want: "photos/none.png: no such file"},
		{name: "folder", file: "photos", want: "photos: it is a folder"},
		{name: "empty", file: "empty.png", want: "empty.png: the file is empty",
			setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "empty.png"), nil) }},
		{name: "too big", file: "big.png", want: "big.png: the file has 11534336 bytes, more than ok.ru's limit of 10485760",
			setup: func(t *testing.T, dir string) {
				f, err := os.Create(filepath.Join(dir, "big.png"))
				if err != nil {
					t.Fatal(err)
				}
				f.Write(testPNG(t, 1))
				if err := f.Truncate(11 << 20); err != nil { // sparse: no disk used
					t.Fatal(err)
				}
				f.Close()
			}},
		{name: "not an image", file: "notes.txt", want: "notes.txt: it is not a photo (its content is text/plain",
			setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "notes.txt"), []byte("hello")) }},
		{name: "symlink out", file: "link.png", want: "link.png: the path leads out of the workflow's folder",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(outside, filepath.Join(dir, "link.png")); err != nil {
					t.Skip(err)
				}
			}},
		{name: "dot dot", file: "../outside.png", want: "../outside.png: the path leaves the workflow's folder"},
		{name: "absolute", file: outside, want: "the path is absolute"},
	}
	for _, tt := range tests {
		// The files are checked before the run when they are known then,
		// else by the instance before its upload.
		for _, when := range []struct {
			name, files string
			status      Status
		}{
			{"before the run", `["photos/a.png", %q]`, StatusInvalid},
			{"known after a call", `["photos/a.png", call.me.result.uid == "" ? "" : %q]`, StatusFailed},
		} {
			t.Run(tt.name+"/"+when.name, func(t *testing.T) {
				t.Parallel()
				sb := newUploadSandbox(t)
				src := sb.session + fmt.Sprintf(`
call "me" {
  method = "users.getCurrentUser"
}
upload "pics" {
  files = `+when.files+`
}
call "post" {
  method = "mediatopic.post"
  params = { type = "USER", attachment = topic_attachment("x", upload.pics.result) }
}
`, tt.file)
				w, dir := workflowIn(t, src, threePhotos(t))
				if tt.setup != nil {
					tt.setup(t, dir)
				}
				res, diags := w.Run(t.Context(), Inputs{}, Options{})
				if res.Status != when.status {
					t.Fatalf("status %v, want %v: %s", res.Status, when.status, diags.Error())
				}
				text := diagsText(diags)
				if !strings.Contains(text, tt.want) || !strings.Contains(text, "Nothing was uploaded") {
					t.Errorf("diagnostics %q: want %q", text, tt.want)
				}
				for _, c := range sb.srv.Calls() {
					if c.Method != "users.getCurrentUser" {
						t.Errorf("%s reached the sandbox, want no upload and no post", c.Method)
					}
				}
				if n := len(sb.srv.UploadedPhotos()); n != 0 {
					t.Errorf("%d photos uploaded, want none", n)
				}
			})
		}
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func diagsText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestUploadResumeReusesTokens: a commit the server refused leaves the
// tokens in the journal; the resumed run commits them without uploading
// the files again.
func TestUploadResumeReusesTokens(t *testing.T) {
	t.Parallel()
	sb := newUploadSandbox(t)
	gid := sb.srv.DemoGroups()[0]
	aid := sb.srv.GroupAlbums(gid)[0]
	w, dir := workflowIn(t, sb.session+fmt.Sprintf(`
upload "album" {
  files    = sort(fileset(".", "photos/*.png"))
  group_id = %q
  album_id = %q
}
`, gid, aid), threePhotos(t))
	state := filepath.Join(dir, "state", "run.journal")
	sb.srv.InjectError(okrutest.ErrorRule{Method: "photosV2.commit", Code: okru.CodeParam, Nth: 1})
	res, diags := w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state}})
	if res.Status != StatusFailed || !strings.Contains(diagsText(diags), "Commit failed") {
		t.Fatalf("first run: status %v, want a failed commit: %s", res.Status, diags.Error())
	}
	if n := len(sb.srv.UploadedPhotos()); n != 3 {
		t.Fatalf("first run uploaded %d photos, want 3", n)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	app, demo := sb.srv.App(), sb.srv.DemoUser()
	for _, secret := range []string{app.SecretKey, demo.AccessToken, "/upload/photos?t="} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the journal holds a secret (%.12s...)", secret)
		}
	}

	res, diags = w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state, Resume: true}})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	photos := sb.srv.UploadedPhotos()
	if len(photos) != 3 {
		t.Fatalf("%d photos uploaded after the resumed run, want the same 3", len(photos))
	}
	for _, p := range photos {
		if !p.Committed || p.AlbumID != aid {
			t.Errorf("photo %+v: want it committed into album %s", p, aid)
		}
	}

	// A run resumed once more reuses the finished upload.
	rec := &recorder{}
	res, diags = w.Run(t.Context(), Inputs{}, Options{Observer: rec, State: &StateOptions{Path: state, Resume: true}})
	if diags.HasErrors() || res.Status != StatusOK || res.Reused != 1 {
		t.Fatalf("third run: status %v, %d reused: %s", res.Status, res.Reused, diags.Error())
	}
	if n := len(sb.srv.UploadedPhotos()); n != 3 {
		t.Errorf("%d photos after the third run, want 3", n)
	}
}

// TestUploadURLFailures: an upload URL that answers an error, an HTML page
// or cuts the connection halfway fails the upload naming its files, and
// the topic that would show the photos is not posted.
func TestUploadURLFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		serve http.HandlerFunc
		want  string
	}{
		{"error envelope", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.Header().Set("Invocation-Error", "100")
			fmt.Fprint(w, `{"error_code":100,"error_msg":"PARAM : bad","error_data":null}`)
		}, "PARAM"},
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		}, "502"},
		{"connection cut", func(w http.ResponseWriter, r *http.Request) {
			io.CopyN(io.Discard, r.Body, 100)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "upload URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := httptest.NewServer(tt.serve)
			t.Cleanup(up.Close)
			api := newAPIServer(t, func(method string, form map[string]string) (any, int) {
				if method == "photosV2.getUploadUrl" {
					return map[string]any{"upload_url": up.URL + "/upload?t=SECRET-TICKET", "photo_ids": []string{"1", "2", "3"}}, 0
				}
				return "1", 0
			})
			w, _ := workflowIn(t, testSession+`
upload "pics" {
  files = sort(fileset(".", "photos/*.png"))
}
call "post" {
  method = "mediatopic.post"
  params = { type = "USER", attachment = topic_attachment("x", upload.pics.result) }
}
`, threePhotos(t))
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: api.connector()})
			text := diagsText(diags)
			if res.Status != StatusFailed || !strings.Contains(text, "photos/a.png, photos/b.png, photos/c.png") ||
				!strings.Contains(text, tt.want) || !strings.Contains(text, "Nothing was put") {
				t.Fatalf("status %v, diagnostics:\n%s\nwant a failed upload naming the files and %q", res.Status, text, tt.want)
			}
			if strings.Contains(text, "SECRET-TICKET") {
				t.Errorf("the upload URL is in the error:\n%s", text)
			}
			for _, c := range api.Calls() {
				if c.Method == "mediatopic.post" {
					t.Errorf("the topic was posted after a failed upload")
				}
			}
		})
	}
}

// testMP4 is size bytes that sniff as an MP4 video.
func testMP4(size int) []byte {
	b := make([]byte, size)
	copy(b, "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	return b
}

// TestUploadVideo publishes a video with a title into a group; a failed
// video.update leaves the video id in the journal, and the resumed run
// updates that video without sending the file again.
func TestUploadVideo(t *testing.T) {
	t.Parallel()
	sb := newUploadSandbox(t)
	gid := sb.srv.DemoGroups()[0]
	w, dir := workflowIn(t, sb.session+fmt.Sprintf(`
upload "clip" {
  video    = "media/clip.mp4"
  group_id = %q
  title    = "Clip"
  tags     = ["a", "b"]
  privacy  = "PUBLIC"
}
output "id" { value = upload.clip.result.video_id }
`, gid), map[string][]byte{"media/clip.mp4": testMP4(50_000)})
	state := filepath.Join(dir, "state", "run.journal")
	sb.srv.InjectError(okrutest.ErrorRule{Method: "video.update", Code: okru.CodeParam, Nth: 1})
	res, diags := w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state}})
	if res.Status != StatusFailed || !strings.Contains(diagsText(diags), "Video update failed") {
		t.Fatalf("first run: status %v, want a failed update: %s", res.Status, diags.Error())
	}
	res, diags = w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state, Resume: true}})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	vids := sb.srv.UploadedVideos()
	if len(vids) != 1 || vids[0].Title != "Clip" || vids[0].Tags != "a,b" || vids[0].GroupID != gid || vids[0].Received != 50_000 || vids[0].Updates != 1 {
		t.Fatalf("videos %+v: want one, of the group, titled, updated once", vids)
	}
	if got := lang.FormatValue(res.Outputs[0].Value, 0); got != fmt.Sprintf("%q", vids[0].ID) {
		t.Errorf("output id %s, want %s", got, vids[0].ID)
	}
}

// TestUploadVideoBadFiles: a file that is not a video, or empty, fails
// before any traffic, naming the file.
func TestUploadVideoBadFiles(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"not a video": {testPNG(t, 1), "clip.mp4: it is not a video (its content is image/png)"},
		"empty":       {[]byte{}, "clip.mp4: the file is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := newUploadSandbox(t)
			w, _ := workflowIn(t, sb.session+`
upload "clip" {
  video = "clip.mp4"
  title = "x"
}
`, map[string][]byte{"clip.mp4": tt.data})
			res, diags := w.Run(t.Context(), Inputs{}, Options{})
			if res.Status != StatusInvalid || !strings.Contains(diagsText(diags), tt.want) {
				t.Fatalf("status %v, diagnostics %s; want %q before the run", res.Status, diagsText(diags), tt.want)
			}
			if n := len(sb.srv.Calls()); n != 0 {
				t.Errorf("%d calls reached the sandbox, want none", n)
			}
		})
	}
}

// TestScriptUploads uploads photos and a video from Lua and posts them in a
// topic built by okru.topic_attachment. The topic post fails the first
// run; the resumed run answers the recorded uploads from the journal, so
// the files are not sent again.
func TestScriptUploads(t *testing.T) {
	t.Parallel()
	if lua.UploadPhotosMethod != lang.UploadPhotosMethod || lua.UploadVideoMethod != lang.UploadVideoMethod {
		t.Fatal("lua and lang name the upload methods differently")
	}
	sb := newUploadSandbox(t)
	gid := sb.srv.DemoGroups()[0]
	files := threePhotos(t)
	files["clip.mp4"] = testMP4(10_000)
	w, dir := workflowIn(t, sb.session+fmt.Sprintf(`
script "post" {
  input  = { gid = %q }
  source = <<-EOT
    local up = okru.upload_photos{files = {"photos/a.png", "photos/b.png"}, group_id = input.gid}
    local clip = okru.upload_video{video = "clip.mp4", title = "Lua clip", tags = {"lua"}}
    local topic = okru.call("mediatopic.post", {type = "GROUP_THEME", gid = input.gid,
      attachment = okru.topic_attachment{text = "From Lua", photos = up, video = clip}})
    return {topic = topic, photos = #up.photos, video = clip.video_id}
  EOT
}
output "result" { value = script.post.result }
`, gid), files)
	state := filepath.Join(dir, "state", "run.journal")
	sb.srv.InjectError(okrutest.ErrorRule{Method: "mediatopic.post", Code: okru.CodeParam, Nth: 1})
	res, diags := w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state}})
	if res.Status != StatusFailed {
		t.Fatalf("first run: status %v, want failed: %s", res.Status, diags.Error())
	}
	if n := len(sb.srv.UploadedPhotos()); n != 2 {
		t.Fatalf("first run uploaded %d photos, want 2", n)
	}
	res, diags = w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state, Resume: true}})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	if n := len(sb.srv.UploadedPhotos()); n != 2 {
		t.Errorf("%d photos after the resumed run, want the same 2", n)
	}
	vids := sb.srv.UploadedVideos()
	if len(vids) != 1 || vids[0].Title != "Lua clip" {
		t.Errorf("videos %+v: want one titled", vids)
	}
	out := lang.FormatValue(res.Outputs[0].Value, 0)
	if !strings.Contains(out, "photos = 2") || !strings.Contains(out, vids[0].ID) {
		t.Errorf("result %s", out)
	}
	var posts []okrutest.Call
	for _, c := range sb.srv.Calls() {
		if c.Method == "mediatopic.post" && c.Code == 0 {
			posts = append(posts, c)
		}
	}
	if len(posts) != 1 || !strings.Contains(posts[0].Params["attachment"], `{"list":[{"id":"`+vids[0].ID+`"}],"type":"movie"}`) ||
		strings.Count(posts[0].Params["attachment"], `"id":`) != 3 {
		t.Errorf("posts %+v: want one topic with the text, 2 photos and the video", posts)
	}
}

// TestScriptUploadBadFile: a file that cannot be sent fails the script
// with an error naming it, before any traffic.
func TestScriptUploadBadFile(t *testing.T) {
	t.Parallel()
	sb := newUploadSandbox(t)
	w, _ := workflowIn(t, sb.session+`
script "up" {
  source = <<-EOT
    local ok, err = pcall(okru.upload_photos, {files = {"photos/a.png", "../x.png"}})
    return tostring(err)
  EOT
}
output "err" { value = script.up.result }
`, threePhotos(t))
	res, diags := w.Run(t.Context(), Inputs{}, Options{})
	if res.Status != StatusOK {
		t.Fatalf("status %v: %s", res.Status, diags.Error())
	}
	if out := lang.FormatValue(res.Outputs[0].Value, 0); !strings.Contains(out, "../x.png: the path leaves the workflow's folder") {
		t.Errorf("error seen by the script: %s", out)
	}
	if n := len(sb.srv.Calls()); n != 0 {
		t.Errorf("%d calls reached the sandbox, want none", n)
	}
}

// crashingTransport stops a run, as a kill would, when the video part
// starting at byte at is about to be sent: the part never leaves.
type crashingTransport struct {
	at   int64
	stop context.CancelFunc
}

func (c *crashingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", c.at)) {
		c.stop()
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, context.Canceled
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestVideoUploadResumes: a run stopped after the first part of a video (by
// an upload block, or by okru.upload_video in a script) is resumed from
// what the upload URL holds: one video.getUploadUrl, each byte sent once,
// one video.update. When the upload URL has forgotten the video, the
// resumed run reports the upload "outcome unknown" and sends nothing;
// -retry-unknown uploads the file again as a new video.
func TestVideoUploadResumes(t *testing.T) {
	t.Parallel()
	const size = okru.DefaultVideoPartSize + 1<<20
	for name, step := range map[string]string{
		"upload block": `
upload "clip" {
  video = "clip.mp4"
  title = "Clip"
}`,
		"script": `
script "clip" {
  source = <<-EOT
    return okru.upload_video{video = "clip.mp4", title = "Clip"}
  EOT
}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := newUploadSandbox(t)
			w, dir := workflowIn(t, sb.session+step, map[string][]byte{"clip.mp4": testMP4(size)})
			state := filepath.Join(dir, "state", "run.journal")
			getUploadURLs := func() int {
				n := 0
				for _, c := range sb.srv.Calls() {
					if c.Method == "video.getUploadUrl" {
						n++
					}
				}
				return n
			}
			crash := func() {
				t.Helper()
				ctx, stop := context.WithCancel(t.Context())
				defer stop()
				connect := func(_ context.Context, s SessionConfig) (Caller, error) {
					sess, err := NewSession(s)
					if err != nil {
						return nil, err
					}
					tr := &crashingTransport{at: okru.DefaultVideoPartSize, stop: stop}
					return okru.New(sess, &okru.Options{Rate: okru.Unlimited, HTTPClient: &http.Client{Transport: tr}}), nil
				}
				res, diags := w.Run(ctx, Inputs{}, Options{Connect: connect, State: &StateOptions{Path: state, Resume: true}})
				if res.Status == StatusOK {
					t.Fatalf("the crashed run ended well: %s", diags.Error())
				}
			}
			crash()
			if v := sb.srv.UploadedVideos(); len(v) != 1 || v[0].Posted != okru.DefaultVideoPartSize {
				t.Fatalf("after the crash: %+v, want one video holding its first part", v)
			}
			res, diags := w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state, Resume: true}})
			if res.Status != StatusOK {
				t.Fatalf("resumed run: %v: %s", res.Status, diags.Error())
			}
			v := sb.srv.UploadedVideos()
			if len(v) != 1 || v[0].Received != size || v[0].Posted != size || v[0].Updates != 1 || v[0].Title != "Clip" || getUploadURLs() != 1 {
				t.Fatalf("videos %+v after %d video.getUploadUrl: want one, whole, each byte sent once, updated once, reserved once", v, getUploadURLs())
			}

			// The upload URL forgets the video of a crashed run.
			state = filepath.Join(dir, "state", "forgotten.journal")
			crash()
			sb.srv.Reset()
			// An upload block's reason is its event's; a script's, its error.
			var mu sync.Mutex
			text := ""
			obs := ObserverFunc(func(e Event) {
				mu.Lock()
				defer mu.Unlock()
				if e.Type == EventUnknown {
					text += e.Reason
				}
			})
			res, diags = w.Run(t.Context(), Inputs{}, Options{Observer: obs, State: &StateOptions{Path: state, Resume: true}})
			text += diagsText(diags)
			if res.Status != StatusFailed || !strings.Contains(text, "began uploading clip.mp4 as video") ||
				!strings.Contains(text, "whose upload URL no longer takes it (call upload URL: PARAM (100)") || len(sb.srv.Calls()) != 0 {
				t.Fatalf("resumed run after the upload URL forgot the video: %v, %d calls: %s", res.Status, len(sb.srv.Calls()), text)
			}
			res, diags = w.Run(t.Context(), Inputs{}, Options{State: &StateOptions{Path: state, Resume: true, RetryUnknown: true}})
			if v := sb.srv.UploadedVideos(); res.Status != StatusOK || len(v) != 1 || v[0].Received != size || v[0].Updates != 1 || getUploadURLs() != 1 {
				t.Fatalf("run with -retry-unknown: %v, videos %+v: want the file uploaded again as one new video: %s", res.Status, v, diags.Error())
			}
		})
	}
}
