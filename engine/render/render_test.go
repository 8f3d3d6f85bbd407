package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

var info = lang.Address{Kind: lang.KindCall, Name: "info"}

func events() []engine.Event {
	return []engine.Event{
		{Type: engine.EventExpanded, Step: info, Key: cty.NilVal, Method: "users.getInfo", Instances: 3},
		{Type: engine.EventStarted, Step: info, Key: cty.NumberIntVal(0), Method: "users.getInfo"},
		{Type: engine.EventFinished, Step: info, Key: cty.NumberIntVal(0), Method: "users.getInfo"},
		{Type: engine.EventRetried, Step: info, Key: cty.NumberIntVal(1), Method: "users.getInfo", Attempt: 1,
			Err: errors.New("call users.getInfo: UNKNOWN (1)")},
		{Type: engine.EventFailed, Step: info, Key: cty.NumberIntVal(1), Method: "users.getInfo",
			Err: errors.New("call users.getInfo: UNKNOWN (1)")},
		{Type: engine.EventSkipped, Step: info, Key: cty.StringVal("x"), Method: "users.getInfo", Reason: "when is false"},
		{Type: engine.EventOutputs, Key: cty.NilVal, Outputs: []engine.OutputValue{
			{Name: "n", Value: cty.NumberIntVal(3)},
			{Name: "token", Value: cty.StringVal("s3cret"), Sensitive: true},
		}},
	}
}

func TestTextSummarisesForEach(t *testing.T) {
	t.Parallel()
	for _, live := range []bool{false, true} {
		var b bytes.Buffer
		r := NewText(&b, false, live)
		for _, e := range events() {
			r.Observe(e)
		}
		out := b.String()
		for _, want := range []string{
			"call.info: users.getInfo × 3\n",
			"call.info[1]: users.getInfo retrying (attempt 1 failed, next in 0s): UNKNOWN (1)\n",
			"call.info[1]: users.getInfo failed: UNKNOWN (1)\n",
			"call.info: users.getInfo × 3: 1 ok, 1 failed, 1 skipped (",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("live=%v: output lacks %q:\n%s", live, want, out)
			}
		}
		if !live && strings.Contains(out, "\r") {
			t.Errorf("a progress line was drawn off a terminal:\n%q", out)
		}
	}
}

func TestJSONLines(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	r := NewJSON(&b)
	for _, e := range events() {
		r.Observe(e)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(events()) {
		t.Fatalf("%d lines for %d events", len(lines), len(events()))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["type"] == nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
	}
	var last struct {
		Type    string         `json:"type"`
		Outputs map[string]any `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last.Type != "outputs" || last.Outputs["n"] != float64(3) || last.Outputs["token"] != "(sensitive)" {
		t.Errorf("outputs line = %s", lines[len(lines)-1])
	}
	if strings.Contains(b.String(), "s3cret") {
		t.Error("a sensitive output was written")
	}
	if !strings.Contains(lines[1], `"key":0`) || !strings.Contains(lines[5], `"key":"x"`) {
		t.Errorf("keys not written as JSON values:\n%s", b.String())
	}
}

// TestSnippetsOfLongLines: a diagnostic quotes its source lines in text
// and in JSON, but not a line of megabytes (a value or file refused for
// its size), which would flood a terminal or a CI log.
func TestSnippetsOfLongLines(t *testing.T) {
	short := []byte("locals {\n  x = 1 +\n    y\n}\n")
	long := []byte("locals {\n  x = " + strings.Repeat("1 + ", 100_000) + "1\n}\n")
	for _, tt := range []struct {
		name   string
		src    []byte
		quoted bool
	}{{"short lines", short, true}, {"one long line", long, false}} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]*hcl.File{"w.hcl": {Bytes: tt.src}}
			rng := hcl.Range{Filename: "w.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 11}, End: hcl.Pos{Line: 2, Column: 4, Byte: 12}}
			diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad", Subject: &rng}}
			var text, js bytes.Buffer
			Diagnostics(&text, files, diags, false, 0)
			NewJSON(&js).Diagnostics(files, diags)
			if got := strings.Contains(text.String(), "2:   x = 1 +"); got != tt.quoted {
				t.Errorf("text quotes line 2: %v, want %v\n%.300s", got, tt.quoted, text.String())
			}
			if got := strings.Contains(js.String(), `"snippet":"  x = 1 +`); got != tt.quoted {
				t.Errorf("JSON quotes line 2: %v, want %v\n%.300s", got, tt.quoted, js.String())
			}
			if text.Len() > 2000 || js.Len() > 2000 {
				t.Errorf("text %d bytes, JSON %d bytes: the long line was quoted", text.Len(), js.Len())
			}
		})
	}
}
