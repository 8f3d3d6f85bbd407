package engine

import (
	"testing"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// TestUploadProgressBytes: an upload step's bytes reach EventProgress,
// also for an upload without for_each, and an upload repeated from the
// start is not counted twice.
func TestUploadProgressBytes(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
upload "clip" {
  video = "clip.mp4"
}
`)
	u := newUploadBytes(w)
	addr := lang.Address{Kind: lang.KindUpload, Name: "clip"}
	progress := u.track(addr, 100)
	progress(40)
	progress(10) // the upload started again
	progress(70)
	if sent, total := u.get(addr); sent != 70 || total != 100 {
		t.Fatalf("sent %d of %d", sent, total)
	}
	rec := &recorder{}
	tr := newProgressTracker(rec)
	tr.bytes = func(lang.Address) (int64, int64) { return 30, 100 }
	tr.Observe(Event{Type: EventStarted, Step: addr, Key: cty.NilVal, Method: lang.UploadVideoMethod})
	tr.Observe(Event{Type: EventProgress, Key: cty.NilVal})
	var got []StepProgress
	for _, e := range rec.events {
		if e.Type == EventProgress {
			got = e.Progress
		}
	}
	if len(got) != 1 || got[0].Bytes != 30 || got[0].TotalBytes != 100 || got[0].Total != 1 {
		t.Fatalf("progress %+v: want the upload's bytes", got)
	}
	tr.Observe(Event{Type: EventFinished, Step: addr, Key: cty.NilVal, Method: lang.UploadVideoMethod})
	if s := tr.snapshot(); len(s) != 0 {
		t.Errorf("a finished upload is still in progress: %+v", s)
	}
}
