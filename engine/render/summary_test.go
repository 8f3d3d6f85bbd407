package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

const tallySource = `
session "main" {}

call "info" {
  for_each = range(4)
  method   = "users.getInfo"
  params   = { uids = "1", fields = "name" }
}

call "me" {
  method = "users.getCurrentUser"
}

call "later" {
  for_each = call.info
  method   = "users.getInfo"
  params   = { uids = "1", fields = "name" }
}
`

func TestTallyCountsInstances(t *testing.T) {
	t.Parallel()
	cfg, diags := lang.LoadSource("wf.hcl", []byte(tallySource), ".")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	me := lang.Address{Kind: lang.KindCall, Name: "me"}
	later := lang.Address{Kind: lang.KindCall, Name: "later"}
	wf, diags := engine.Compile(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tally := NewTally(wf.Steps(engine.Inputs{}))
	for _, e := range []engine.Event{
		{Type: engine.EventExpanded, Step: info, Key: cty.NilVal, Method: "users.getInfo", Instances: 4},
		{Type: engine.EventFinished, Step: info, Key: cty.NumberIntVal(0)},
		{Type: engine.EventFailed, Step: info, Key: cty.NumberIntVal(1)},
		{Type: engine.EventReused, Step: info, Key: cty.NumberIntVal(2)},
		// The call of a script is no instance.
		{Type: engine.EventFinished, Step: info, Key: cty.NumberIntVal(3), FromScript: true},
		{Type: engine.EventFinished, Step: me, Key: cty.NilVal},
		// A for_each step skipped before it expanded counts once.
		{Type: engine.EventSkipped, Step: later, Key: cty.NilVal, Reason: "call.info failed"},
	} {
		tally.Observe(e)
	}
	s := tally.Summary()
	if s.OK != 2 || s.Failed != 1 || s.Reused != 1 || s.Skipped != 1 || s.NotStarted() != 1 {
		t.Errorf("sums = %+v, not started %d; want 2 ok, 1 failed, 1 reused, 1 skipped, 1 not started", s.StepTally, s.NotStarted())
	}
	var b bytes.Buffer
	WriteSummary(&b, s)
	want := "Summary: 2 ok, 1 failed, 1 skipped, 1 reused, 0 unknown, 1 not started in "
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("summary = %q, want it to start with %q", b.String(), want)
	}
	for _, line := range []string{"  call.info: 1 ok, 1 failed, 1 reused, 1 not started\n", "  call.me: 1 ok\n", "  call.later: 1 skipped\n"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("summary lacks %q:\n%s", line, b.String())
		}
	}
}

func TestGroupDiagnostics(t *testing.T) {
	t.Parallel()
	rng := &hcl.Range{Filename: "wf.hcl", Start: hcl.Pos{Line: 3, Column: 1}, End: hcl.Pos{Line: 3, Column: 9}}
	failed := func(i int, msg string) *hcl.Diagnostic {
		name := fmt.Sprintf("call.post[%d]", i)
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Call failed", Subject: rng,
			Detail: name + " (mediatopic.post): " + msg, Extra: engine.FailedInstance{Instance: name}}
	}
	var diags hcl.Diagnostics
	for i := range 47 {
		msg := "PARAM (100): text is empty."
		if i%10 == 5 {
			msg = "PERMISSION_DENIED (10): no right."
		}
		diags = append(diags, failed(i, msg))
	}
	diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unknown parameter"})
	groups := GroupDiagnostics(diags)
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3 (two failures and the warning)", len(groups))
	}
	if g := groups[0]; g.Instance != "call.post[0]" || len(g.Others) != 41 {
		t.Errorf("first group: %s and %d others, want call.post[0] and 41", g.Instance, len(g.Others))
	}
	if g := groups[1]; g.Instance != "call.post[5]" || strings.Join(g.Others, " ") != "call.post[15] call.post[25] call.post[35] call.post[45]" {
		t.Errorf("second group: %s and %v", g.Instance, g.Others)
	}
	if g := groups[2]; g.Diag.Severity != hcl.DiagWarning || g.Others != nil {
		t.Errorf("the warning was grouped: %+v", g)
	}
	want := "and 41 more like it (instances call.post[1], call.post[2], call.post[3], call.post[4], call.post[6], ...)"
	if got := MoreLikeIt(groups[0].Others); got != want {
		t.Errorf("MoreLikeIt = %q, want %q", got, want)
	}
	if got := MoreLikeIt([]string{"call.x[1]"}); got != "and 1 more like it (instance call.x[1])" {
		t.Errorf("MoreLikeIt of one = %q", got)
	}
}

func TestDescribeFailure(t *testing.T) {
	t.Parallel()
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid parameter"}}
	tests := []struct {
		name string
		e    engine.Event
		want Failure
	}{
		{"api", engine.Event{Method: "users.getInfo", Err: fmt.Errorf("wrapped: %w", &okru.Error{Method: "users.getInfo", Code: 100})},
			Failure{Class: ClassAPI, Code: 100, Name: "PARAM"}},
		{"transport", engine.Event{Method: "users.getInfo", Err: &okru.TransportError{Method: "users.getInfo", Err: errors.New("refused")}},
			Failure{Class: ClassTransport}},
		{"timeout", engine.Event{Method: "users.getInfo", Err: fmt.Errorf("x: %w", context.DeadlineExceeded)}, Failure{Class: ClassTransport}},
		{"decode", engine.Event{Method: "users.getInfo", Err: &okru.DecodeError{Method: "users.getInfo", Status: 502}}, Failure{Class: ClassDecode}},
		{"evaluation", engine.Event{Method: "users.getInfo", Diags: diags}, Failure{Class: ClassEvaluation}},
		{"script", engine.Event{Method: lang.ScriptMethod, Err: errors.New("report.lua:3: boom")}, Failure{Class: ClassScript}},
		{"step evaluation", engine.Event{Method: "users.getInfo", Err: &engine.EvalError{Diags: diags}, Diags: diags}, Failure{Class: ClassEvaluation}},
		{"session rule", engine.Event{Method: "users.getInfo", Err: fmt.Errorf("call users.getInfo: %w", okru.ErrSessionRequired)},
			Failure{Class: ClassAPI, Code: 453, Name: "SESSION_REQUIRED"}},
		{"other with diagnostics", engine.Event{Method: "users.getInfo", Err: errors.New("cannot record the call"), Diags: diags}, Failure{Class: ClassOther}},
		{"other", engine.Event{Method: "users.getInfo", Err: errors.New("disk full")}, Failure{Class: ClassOther}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DescribeFailure(tt.e); got != tt.want {
				t.Errorf("DescribeFailure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestGroupDiagnosticsDropsRepeats: an expression that fails on every
// element of a list reports the same diagnostic each time; it is shown
// once. Diagnostics that differ in place or text all stay.
func TestGroupDiagnosticsDropsRepeats(t *testing.T) {
	t.Parallel()
	at := func(line int) *hcl.Range {
		return &hcl.Range{Filename: "wf.hcl", Start: hcl.Pos{Line: line, Column: 1}, End: hcl.Pos{Line: line, Column: 9}}
	}
	same := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute", Detail: "No name.", Subject: at(6)}
	var diags hcl.Diagnostics
	for range 48 {
		d := *same
		diags = append(diags, &d)
	}
	diags = append(diags,
		&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute", Detail: "No name.", Subject: at(7)},
		&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute", Detail: "No uid.", Subject: at(6)})
	if got := len(GroupDiagnostics(diags)); got != 3 {
		t.Errorf("%d groups, want 3 (the 48 repeats once, and the two that differ)", got)
	}
}
