package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

var (
	stepA = lang.Address{Kind: lang.KindCall, Name: "a"}
	stepB = lang.Address{Kind: lang.KindCall, Name: "b"}
	me    = lang.Address{Kind: lang.KindCall, Name: "me"}
)

// batchEvents are the events of a resumed, sharded batch: two for_each
// steps running at once, one instance finished earlier, one write whose
// outcome is unknown, a stop.
func batchEvents() []engine.Event {
	key := cty.NumberIntVal
	return []engine.Event{
		{Type: engine.EventState, Key: cty.NilVal, Path: ".okru-run/wf.hcl.journal", Resumed: true, Recorded: 42},
		{Type: engine.EventReused, Step: me, Key: cty.NilVal, Method: "users.getCurrentUser"},
		{Type: engine.EventExpanded, Step: stepA, Key: cty.NilVal, Method: "users.getInfo", Instances: 3, Total: 9},
		{Type: engine.EventExpanded, Step: stepB, Key: cty.NilVal, Method: "mediatopic.post", Instances: 2, Total: 2},
		{Type: engine.EventReused, Step: stepA, Key: key(0), Method: "users.getInfo"},
		{Type: engine.EventRetried, Step: stepA, Key: key(1), Method: "users.getInfo", Attempt: 1, Err: errors.New("call users.getInfo: UNKNOWN (1)")},
		{Type: engine.EventFinished, Step: stepA, Key: key(1), Method: "users.getInfo"},
		{Type: engine.EventUnknown, Step: stepB, Key: key(0), Method: "mediatopic.post", Reason: "sent by the run being resumed; not sent again"},
		{Type: engine.EventProgress, Key: cty.NilVal, Progress: []engine.StepProgress{
			{Step: stepA, Method: "users.getInfo", Total: 3, Done: 1, Reused: 1, Retries: 1, Rate: 3, ETA: 333 * time.Millisecond, Elapsed: time.Second},
		}},
		{Type: engine.EventStopping, Key: cty.NilVal, InFlight: 2},
		{Type: engine.EventFinished, Step: stepA, Key: key(2), Method: "users.getInfo"},
		{Type: engine.EventFinished, Step: stepB, Key: key(1), Method: "mediatopic.post"},
	}
}

func TestTextBatchEvents(t *testing.T) {
	t.Parallel()
	for _, live := range []bool{false, true} {
		var b bytes.Buffer
		r := NewText(&b, false, live)
		for _, e := range batchEvents() {
			r.Observe(e)
		}
		out := b.String()
		for _, want := range []string{
			"resuming the run recorded in .okru-run/wf.hcl.journal (42 records)\n",
			"call.me: users.getCurrentUser done in an earlier run\n",
			"call.a: users.getInfo × 3 (this shard's share of 9)\n",
			"call.b[0]: mediatopic.post outcome unknown: sent by the run being resumed; not sent again\n",
			"stopping: no new call starts; waiting for 2 calls in flight (interrupt again to quit at once)\n",
			"call.a: users.getInfo × 3: 2 ok, 1 done earlier (",
			"call.b: mediatopic.post × 2: 1 ok, 1 outcome unknown (",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("live=%v: output lacks %q:\n%s", live, want, out)
			}
		}
		status := "call.a: users.getInfo 2/3 (66%), 1 done earlier, 1 retry, 3.0 calls/s, about 300ms left\n"
		if live == strings.Contains(out, status) {
			t.Errorf("live=%v: the status line is shown %v, want %v:\n%s", live, !live, live, out)
		}
		if !live && strings.Contains(out, "\x1b[") {
			t.Errorf("escape sequences off a terminal:\n%q", out)
		}
	}
}

// On a terminal, each running for_each has a bar, stacked under the lines
// printed; a finished step's bar goes away with its summary line.
func TestTextLiveBars(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	r := NewText(&b, false, true)
	for _, e := range batchEvents()[:4] {
		r.Observe(e)
	}
	out := b.String()
	// The second expansion redraws both bars: the cursor goes up over the
	// first one, which is cleared, then both are drawn.
	last := out[strings.LastIndex(out, "\x1b[1A"):]
	for _, want := range []string{"call.b: mediatopic.post × 2\n", "call.a: users.getInfo", "(0/3,", "call.b: mediatopic.post", "(0/2,"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last frame lacks %q:\n%q", want, last)
		}
	}
	for _, e := range batchEvents()[4:] {
		r.Observe(e)
	}
	out = b.String()
	tail := out[strings.LastIndex(out, "call.b: mediatopic.post × 2: "):]
	if strings.Contains(tail, "|") {
		t.Errorf("a bar is drawn after every step ended:\n%q", tail)
	}
	if !strings.Contains(out, "(1 done earlier, 1 retry)") {
		t.Errorf("the bar of call.a does not note the earlier run and the retry:\n%q", out)
	}
}

func TestJSONBatchEvents(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	r := NewJSON(&b)
	for _, e := range batchEvents() {
		r.Observe(e)
	}
	byType := map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		byType[m["type"].(string)] = append(byType[m["type"].(string)], m)
	}
	checks := []struct {
		typ  string
		key  string
		want any
	}{
		{"state", "path", ".okru-run/wf.hcl.journal"},
		{"state", "resumed", true},
		{"state", "recorded", float64(42)},
		{"reused", "step", "call.me"},
		{"expanded", "total", float64(9)},
		{"outcome_unknown", "key", float64(0)},
		{"outcome_unknown", "reason", "sent by the run being resumed; not sent again"},
		{"stopping", "in_flight", float64(2)},
	}
	for _, c := range checks {
		if len(byType[c.typ]) == 0 || byType[c.typ][0][c.key] != c.want {
			t.Errorf("%s line: %s = %v, want %v (%v)", c.typ, c.key, byType[c.typ], c.want, byType[c.typ])
		}
	}
	if _, ok := byType["expanded"][1]["total"]; ok {
		t.Errorf("an expanded line of an unsharded step has a total: %v", byType["expanded"][1])
	}
	p := byType["progress"]
	if len(p) != 1 {
		t.Fatalf("progress lines = %v", p)
	}
	steps := p[0]["steps"].([]any)
	s := steps[0].(map[string]any)
	want := map[string]any{"step": "call.a", "method": "users.getInfo", "total": float64(3), "done": float64(1),
		"reused": float64(1), "failed": float64(0), "retries": float64(1), "rate": float64(3), "eta_ms": float64(333), "elapsed_ms": float64(1000)}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("progress %s = %v, want %v", k, s[k], v)
		}
	}
}

// TestUploadBytes: an upload's bytes show on its bar on a terminal (a bar
// of its own for an upload without for_each, gone when it ends), in the
// status line elsewhere, and in -json progress.
func TestUploadBytes(t *testing.T) {
	t.Parallel()
	clip := lang.Address{Kind: lang.KindUpload, Name: "clip"}
	progress := engine.Event{Type: engine.EventProgress, Key: cty.NilVal, Progress: []engine.StepProgress{
		{Step: clip, Method: lang.UploadVideoMethod, Total: 1, Bytes: 30 << 20, TotalBytes: 100 << 20},
	}}
	done := engine.Event{Type: engine.EventFinished, Step: clip, Key: cty.NilVal, Method: lang.UploadVideoMethod}

	var live bytes.Buffer
	r := NewText(&live, false, true)
	r.Observe(progress)
	if !strings.Contains(live.String(), "upload.clip: upload:video (30.0 of 100.0 MiB sent)") {
		t.Errorf("no bar with the bytes:\n%q", live.String())
	}
	r.Observe(done)
	out := live.String()
	if tail := out[strings.LastIndex(out, "upload.clip: upload:video ok"):]; strings.Contains(tail, "|") {
		t.Errorf("the bar stays after the upload ended:\n%q", tail)
	}

	var plain bytes.Buffer
	NewText(&plain, false, false).Observe(progress)
	if !strings.Contains(plain.String(), "30.0 of 100.0 MiB sent") {
		t.Errorf("status line %q lacks the bytes", plain.String())
	}

	var js bytes.Buffer
	NewJSON(&js).Observe(progress)
	if !strings.Contains(js.String(), `"bytes":31457280,"total_bytes":104857600`) {
		t.Errorf("-json progress %s lacks the bytes", js.String())
	}
}
