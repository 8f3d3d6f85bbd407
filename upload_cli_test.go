package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// uploadKillWorkflow commits one photo per file of photos/ into an album of
// the demo user's first group, each captioned with its file name, so that
// the sandbox's call log tells which file each commit put in the album.
const uploadKillWorkflow = `
session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = "unlimited"
}

call "groups" {
  method = "group.getUserGroupsV2"
  params = { count = 1 }
}

locals {
  gid = call.groups.result.groups[0].groupId
}

call "albums" {
  method = "photos.getAlbums"
  params = { gid = local.gid }
}

upload "photos" {
  for_each = fileset(".", "photos/*.png")
  files    = [each.value]
  group_id = local.gid
  album_id = call.albums.result.albums[0].aid
  captions = { (each.value) = each.value }
}
`

// writePNGs writes n distinct small PNG files into dir/photos.
func writePNGs(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "photos"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		img.Pix[0], img.Pix[1] = byte(i), byte(i>>8)
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "photos", fmt.Sprintf("%03d.png", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUploadSurvivesKills: 200 photos committed into an album, one upload
// instance each, the run killed with SIGKILL at random points and resumed
// each time. The sandbox's log then shows every file committed exactly
// once, except files whose commit was reported "outcome unknown", which
// are committed at most once: no file is ever in the album twice.
func TestUploadSurvivesKills(t *testing.T) {
	t.Parallel()
	files, kills := 200, 5
	if testing.Short() {
		files, kills = 60, 2
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OKRU_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set OKRU_CRASH_SEED to repeat)", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	writePNGs(t, dir, files)
	workflow := filepath.Join(dir, "upload.hcl")
	if err := os.WriteFile(workflow, []byte(uploadKillWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := startSandboxProc(t)
	state := filepath.Join(t.TempDir(), "upload.journal")
	args := []string{"-parallelism", "8", "-state", state, workflow}
	killed := 0
	for i := range kills {
		at := 1 + rnd.IntN(files/kills)
		runArgs := args
		if i > 0 {
			runArgs = append([]string{"-resume"}, args...)
		}
		var once sync.Once
		p := startRun(t, sb.env, func(p *runProc, e map[string]any) {
			if e["type"] == "finished" && p.count("finished", "upload.photos") >= at {
				once.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) })
			}
		}, runArgs...)
		code := p.wait(t)
		if code == 0 {
			t.Logf("run %d finished before its kill at %d uploads", i+1, at)
			break
		}
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: exit %d, not killed; stderr:\n%s", i+1, code, p.stderr.String())
		}
		killed++
		t.Logf("run %d killed after %d finished uploads (%d reused)", i+1, p.count("finished", "upload.photos"), p.count("reused", "upload.photos"))
	}
	if killed == 0 {
		t.Fatal("no run was killed")
	}

	p := startRun(t, sb.env, nil, append([]string{"-resume"}, args...)...)
	code := p.wait(t)
	unknown := p.keys("outcome_unknown", "upload.photos")
	if code != 0 && (code != 1 || len(unknown) == 0) {
		t.Fatalf("final run: exit %d; stderr:\n%s", code, p.stderr.String())
	}
	t.Logf("%d kills; the final run uploaded %d, reused %d, and reports %d commits of unknown outcome",
		killed, p.count("started", "upload.photos"), p.count("reused", "upload.photos"), len(unknown))

	commits := map[string]int{}
	for _, c := range sb.calls(t) {
		if c.Method != "photosV2.commit" || c.Code != 0 || c.Abandoned {
			continue
		}
		var items []struct{ Comment string }
		if err := json.Unmarshal([]byte(c.Params["photos"]), &items); err != nil {
			t.Fatalf("commit %v: %v", c.Params, err)
		}
		for _, it := range items {
			commits[it.Comment]++
		}
	}
	isUnknown := map[string]bool{}
	for _, k := range unknown {
		isUnknown[k] = true
	}
	for i := range files {
		f := fmt.Sprintf("photos/%03d.png", i)
		switch n := commits[f]; {
		case isUnknown[f] && n > 1:
			t.Errorf("%s, of unknown outcome, was committed %d times, want at most once", f, n)
		case !isUnknown[f] && n != 1:
			t.Errorf("%s was committed %d times, want exactly once", f, n)
		}
	}

	// Sending the unknown commits again commits the recorded photo ids
	// again: every file ends in the album under one photo id.
	if len(unknown) > 0 {
		p := startRun(t, sb.env, nil, append([]string{"-resume", "-retry-unknown"}, args...)...)
		if code := p.wait(t); code != 0 {
			t.Fatalf("run with -retry-unknown: exit %d; stderr:\n%s", code, p.stderr.String())
		}
		if n := p.count("started", "upload.photos"); n != len(unknown) {
			t.Errorf("the run with -retry-unknown started %d uploads, want the %d unknown", n, len(unknown))
		}
	}
	ids := map[string]map[string]bool{}
	for _, c := range sb.calls(t) {
		if c.Method != "photosV2.commit" || c.Code != 0 || c.Abandoned {
			continue
		}
		var items []struct{ PhotoID, Comment string }
		_ = json.Unmarshal([]byte(c.Params["photos"]), &items)
		for _, it := range items {
			if ids[it.Comment] == nil {
				ids[it.Comment] = map[string]bool{}
			}
			ids[it.Comment][it.PhotoID] = true
		}
	}
	for i := range files {
		f := fmt.Sprintf("photos/%03d.png", i)
		if n := len(ids[f]); n != 1 {
			t.Errorf("%s was committed under %d photo ids, want 1", f, n)
		}
	}

	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	bn := sb.banner
	for what, s := range map[string]string{"app secret key": bn.AppSecretKey, "access token": bn.User.AccessToken} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the state holds the %s", what)
		}
	}
	if bytes.Contains(b, []byte("/upload/photos?t=")) {
		t.Error("the state holds an upload URL")
	}
}

// videoKillWorkflow uploads the videos of clips/ with an upload block and
// one more from a script, each titled with its path.
const videoKillWorkflow = `
session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = "unlimited"
}

upload "clips" {
  for_each = fileset(".", "clips/*.mp4")
  video    = each.value
  title    = each.value
}

script "scripted" {
  source = <<-EOT
    return okru.upload_video{video = "scripted/c.mp4", title = "scripted/c.mp4"}
  EOT
}
`

// writeMP4 writes size bytes that sniff as an MP4 video, distinct per
// name, and returns their SHA-256.
func writeMP4(t *testing.T, path string, size int) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	rnd := rand.NewChaCha8([32]byte([]byte(fmt.Sprintf("%-32s", path))[:32]))
	_, _ = rnd.Read(b)
	copy(b, "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// videos lists the sandbox's uploaded videos.
func (s *sandboxProc) videos(t *testing.T) []okrutest.UploadedVideo {
	t.Helper()
	resp, err := http.Get(s.banner.ControlURL + "videos")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v []okrutest.UploadedVideo
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVideoUploadSurvivesKills: three 64 MiB videos (two from an upload
// block, one from a script) uploaded in parallel, the run killed with
// SIGKILL while their bytes stream, at seeded random amounts of bytes, and
// resumed each time. The sandbox then shows each file reserved by one
// video.getUploadUrl, whole, its bytes sent once but for the parts the
// kills cut (at most one part per kill), and updated once. The journal
// keeps the upload URLs; stdout and stderr never show them.
func TestVideoUploadSurvivesKills(t *testing.T) {
	t.Parallel()
	const size = 64 << 20
	kills := 3
	if testing.Short() {
		kills = 1
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OKRU_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set OKRU_CRASH_SEED to repeat)", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	sums := map[string]string{}
	for _, f := range []string{"clips/a.mp4", "clips/b.mp4", "scripted/c.mp4"} {
		sums[f] = writeMP4(t, filepath.Join(dir, filepath.FromSlash(f)), size)
	}
	workflow := filepath.Join(dir, "video.hcl")
	if err := os.WriteFile(workflow, []byte(videoKillWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := startSandboxProc(t)
	state := filepath.Join(t.TempDir(), "video.journal")
	args := []string{"-parallelism", "3", "-state", state, workflow}
	posted := func() (int64, bool) {
		var n int64
		vids := sb.videos(t)
		streaming := len(vids) == len(sums)
		for _, v := range vids {
			n += v.Posted
			// A video that has had bytes has its target in the journal:
			// a kill now cannot leave a reservation unrecorded.
			streaming = streaming && v.Posted > 0
		}
		return n, streaming
	}
	var runs []*runProc
	killed := 0
	for i := range kills {
		start, _ := posted()
		at := start + int64(8<<20+rnd.IntN(32<<20))
		runArgs := args
		if i > 0 {
			runArgs = append([]string{"-resume"}, args...)
		}
		p := startRun(t, sb.env, nil, runArgs...)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-p.drained:
					return
				case <-time.After(2 * time.Millisecond):
				}
				if n, streaming := posted(); streaming && n >= at {
					_ = p.cmd.Process.Signal(syscall.SIGKILL)
					return
				}
			}
		}()
		code := p.wait(t)
		<-done
		runs = append(runs, p)
		if code == 0 {
			t.Logf("run %d finished before its kill at %d MiB", i+1, at>>20)
			break
		}
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: exit %d, not killed; stderr:\n%s", i+1, code, p.stderr.String())
		}
		killed++
		n, _ := posted()
		t.Logf("run %d killed at %d MiB posted", i+1, n>>20)
	}
	if killed == 0 {
		t.Fatal("no run was killed")
	}

	// A kill during a video.update leaves it of unknown outcome: the
	// upload block reports it, the script raises it.
	unknown := func(p *runProc) []string {
		u := p.keys("outcome_unknown", "upload.clips")
		if strings.Contains(p.stderr.String(), "script.scripted:1: call upload:video: UNKNOWN_CODE (-1): outcome unknown") {
			u = append(u, "scripted/c.mp4")
		}
		return u
	}
	p, u := resumeToEnd(t, sb.env, args, unknown)
	runs = append(runs, p)
	if len(u) > 0 {
		t.Logf("updates of unknown outcome: %v; sending them again", u)
		p = startRun(t, sb.env, nil, append([]string{"-resume", "-retry-unknown"}, args...)...)
		if code := p.wait(t); code != 0 {
			t.Fatalf("run with -retry-unknown: exit %d; stderr:\n%s", code, p.stderr.String())
		}
		runs = append(runs, p)
	}

	reserved := map[string]int{}
	for _, c := range sb.calls(t) {
		if c.Method == "video.getUploadUrl" && c.Code == 0 && !c.Abandoned {
			reserved[c.Params["file_name"]]++
		}
	}
	vids := sb.videos(t)
	var sent int64
	for _, v := range vids {
		sent += v.Posted
		if sums[v.Title] != v.SHA256 || v.Received != size || v.Updates < 1 || v.Updates > 2 {
			t.Errorf("video %s (%s): received %d of %d bytes, %d updates; want whole, with its file's content, updated", v.ID, v.Title, v.Received, size, v.Updates)
		}
		if v.Updates == 2 && len(u) == 0 {
			t.Errorf("video %s (%s) was updated twice", v.ID, v.Title)
		}
		if v.Posted > size+int64(killed)*okru.DefaultVideoPartSize {
			t.Errorf("video %s (%s): %d MiB posted for %d MiB after %d kills; want at most a part resent per kill", v.ID, v.Title, v.Posted>>20, size>>20, killed)
		}
	}
	for _, f := range []string{"a.mp4", "b.mp4", "c.mp4"} {
		if reserved[f] != 1 {
			t.Errorf("%s was reserved by %d video.getUploadUrl, want 1", f, reserved[f])
		}
	}
	if len(vids) != len(sums) {
		t.Errorf("%d videos, want %d", len(vids), len(sums))
	}
	t.Logf("%d kills: %d MiB posted for %d MiB of files", killed, sent>>20, int64(len(sums))*size>>20)

	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/upload/video?t=")) {
		t.Error("the state does not keep the upload URLs")
	}
	for i, p := range runs {
		if strings.Contains(p.stderr.String(), "/upload/video?t=") {
			t.Errorf("run %d: stderr shows an upload URL:\n%s", i+1, p.stderr.String())
		}
		for _, e := range p.events {
			if strings.Contains(fmt.Sprint(e), "/upload/video?t=") {
				t.Errorf("run %d: an event shows an upload URL: %v", i+1, e)
			}
		}
	}
}
