package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
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
