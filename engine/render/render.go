// Package render shows what the engine does: events of a run as human text
// (with colour and a live progress line only on a terminal) or as NDJSON,
// plans, outputs and diagnostics. It is the CLI's presentation layer, kept
// out of package main so it can be tested on its own; it holds no logic
// about what a workflow means.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// ANSI colours, used only when the output is a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Text renders events for people: one line per finished call without
// for_each, a summary per for_each step (a live progress bar per running
// step on a terminal, a status line per EventProgress elsewhere), every
// retry, failure, skip and write whose outcome is unknown.
type Text struct {
	w     io.Writer
	color bool
	live  bool
	steps map[lang.Address]*stepProgress
	bars  liveBars // live only
	// pacedSaid are the sessions whose pace was said to bound the run.
	pacedSaid map[string]bool
}

// PacedNote says that a session's pace, not the network, bounds a run,
// and what to do about it.
func PacedNote(ps engine.PacedSession) string {
	return fmt.Sprintf("paced at %s calls/s by session %s: set rate_limit in its session block (a number, or \"unlimited\") to go faster",
		strconv.FormatFloat(math.Round(ps.Rate*10)/10, 'f', -1, 64), ps.Name)
}

type stepProgress struct {
	method                      string
	total                       int
	ok, failed, skipped, reused int
	unknown                     int
	started                     time.Time
}

// NewText returns a Text renderer writing to w. color adds ANSI colours;
// live draws progress bars for for_each steps, redrawn in place with
// cursor movements, which only makes sense on a terminal.
func NewText(w io.Writer, color, live bool) *Text {
	return &Text{w: w, color: color, live: live, steps: map[lang.Address]*stepProgress{}}
}

func (t *Text) paint(code, s string) string {
	if !t.color {
		return s
	}
	return code + s + reset
}

// println writes a line above the progress bars, in one write so that a
// line never shows half drawn.
func (t *Text) println(s string) {
	if !t.live {
		fmt.Fprintln(t.w, s)
		return
	}
	fmt.Fprint(t.w, t.bars.erase()+s+"\n"+t.bars.frame())
}

// redraw refreshes the bars, at most every redrawEvery unless forced.
func (t *Text) redraw(force bool) {
	if t.live {
		if s := t.bars.redraw(force); s != "" {
			fmt.Fprint(t.w, s)
		}
	}
}

// Observe renders one event.
func (t *Text) Observe(e engine.Event) {
	// The instance's name is made only for a line that shows it: most
	// events of a batch (started, finished with a key) only count.
	name := func() string { return engine.InstanceName(e.Step, e.Key) }
	if e.FromScript {
		t.scriptCall(name(), e)
		return
	}
	switch e.Type {
	case engine.EventLog:
		t.println(fmt.Sprintf("%s: log: %s", name(), e.Message))
	case engine.EventExpanded:
		t.steps[e.Step] = &stepProgress{method: e.Method, total: e.Instances, started: time.Now()}
		share := ""
		if e.Total > e.Instances {
			share = fmt.Sprintf(" (this shard's share of %d)", e.Total)
		}
		if t.live && e.Instances > 0 {
			t.bars.start(e.Step.String(), e.Method, e.Instances)
		}
		t.println(fmt.Sprintf("%s: %s × %d%s", e.Step, e.Method, e.Instances, share))
		if e.Instances == 0 {
			t.println(fmt.Sprintf("%s: %s", e.Step, t.paint(green, "nothing to call")))
		}
	case engine.EventStarted:
	case engine.EventRetried:
		if t.live && e.HasKey() {
			t.bars.retried(e.Step.String())
		}
		t.println(fmt.Sprintf("%s: %s %s (attempt %d failed, next in %s): %s",
			name(), e.Method, t.paint(yellow, "retrying"), e.Attempt, roundDuration(e.Wait), engine.ErrorText(e.Err, e.Method)))
	case engine.EventReused:
		if !e.HasKey() {
			t.println(fmt.Sprintf("%s: %s %s", name(), e.Method, t.paint(green, "done in an earlier run")))
			return
		}
		t.progress(e, func(p *stepProgress) { p.reused++ })
	case engine.EventUnknown:
		t.println(fmt.Sprintf("%s: %s %s: %s", name(), e.Method, t.paint(red, "outcome unknown"), e.Reason))
		if e.HasKey() {
			t.progress(e, func(p *stepProgress) { p.unknown++ })
		}
	case engine.EventState:
		if e.Resumed {
			t.println(fmt.Sprintf("resuming the run recorded in %s (%s)", e.Path, plural(e.Recorded, "record")))
		}
	case engine.EventStopping:
		t.println(t.paint(yellow, fmt.Sprintf("stopping: no new call starts; waiting for %s in flight (interrupt again to quit at once)", plural(e.InFlight, "call"))))
	case engine.EventProgress:
		for _, ps := range e.Paced {
			// On a terminal the bars stay; the note is said once.
			if t.live && t.pacedSaid[ps.Name] {
				continue
			}
			if t.pacedSaid == nil {
				t.pacedSaid = map[string]bool{}
			}
			t.pacedSaid[ps.Name] = true
			t.println(t.paint(yellow, PacedNote(ps)))
		}
		if t.live {
			for _, p := range e.Progress {
				if p.TotalBytes > 0 {
					t.bars.bytes(p.Step.String(), p.Method, p.Bytes, p.TotalBytes)
				}
			}
			t.redraw(true)
			return
		}
		for _, p := range e.Progress {
			t.println(statusLine(p))
		}
	case engine.EventFinished:
		if !e.HasKey() {
			if t.live {
				t.bars.remove(e.Step.String()) // an upload's bytes
			}
			pages := ""
			if e.Pages > 1 {
				pages = fmt.Sprintf(", %d pages", e.Pages)
			}
			t.println(fmt.Sprintf("%s: %s %s (%s%s)", name(), e.Method, t.paint(green, "ok"), roundDuration(e.Elapsed), pages))
			return
		}
		t.progress(e, func(p *stepProgress) { p.ok++ })
	case engine.EventFailed:
		if t.live && !e.HasKey() {
			t.bars.remove(e.Step.String()) // an upload's bytes
		}
		t.println(fmt.Sprintf("%s: %s %s: %s", name(), e.Method, t.paint(red, "failed"), engine.ErrorText(e.Err, e.Method)))
		if e.HasKey() {
			t.progress(e, func(p *stepProgress) { p.failed++ })
		}
	case engine.EventSkipped:
		if e.HasKey() {
			t.progress(e, func(p *stepProgress) { p.skipped++ })
			return
		}
		t.println(fmt.Sprintf("%s: %s", name(), t.paint(yellow, "skipped: "+e.Reason)))
	}
}

// scriptCall renders the events of a call a script made: a line each, as
// for a call step without for_each, so they never count as instances.
func (t *Text) scriptCall(name string, e engine.Event) {
	switch e.Type {
	case engine.EventRetried:
		t.println(fmt.Sprintf("%s: %s %s (attempt %d failed, next in %s): %s",
			name, e.Method, t.paint(yellow, "retrying"), e.Attempt, roundDuration(e.Wait), engine.ErrorText(e.Err, e.Method)))
	case engine.EventFinished:
		pages := ""
		if e.Pages > 1 {
			pages = fmt.Sprintf(", %d pages", e.Pages)
		}
		t.println(fmt.Sprintf("%s: %s %s (%s%s)", name, e.Method, t.paint(green, "ok"), roundDuration(e.Elapsed), pages))
	case engine.EventFailed:
		t.println(fmt.Sprintf("%s: %s %s: %s", name, e.Method, t.paint(red, "failed"), engine.ErrorText(e.Err, e.Method)))
	case engine.EventSkipped:
		t.println(fmt.Sprintf("%s: %s %s", name, e.Method, t.paint(yellow, "stopped: "+e.Reason)))
	}
}

// progress counts an instance of a for_each step and draws the counter;
// the step's summary line is printed when its last instance is over.
func (t *Text) progress(e engine.Event, count func(*stepProgress)) {
	p := t.steps[e.Step]
	if p == nil {
		return
	}
	count(p)
	if t.live {
		t.bars.advance(e.Step.String(), e.Type == engine.EventReused)
	}
	done := p.ok + p.failed + p.skipped + p.reused + p.unknown
	if done < p.total {
		t.redraw(false)
		return
	}
	summary := fmt.Sprintf("%d ok", p.ok)
	if p.reused > 0 {
		summary += fmt.Sprintf(", %d done earlier", p.reused)
	}
	if p.failed > 0 {
		summary += ", " + t.paint(red, fmt.Sprintf("%d failed", p.failed))
	}
	if p.unknown > 0 {
		summary += ", " + t.paint(red, fmt.Sprintf("%d outcome unknown", p.unknown))
	}
	if p.skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", p.skipped)
	}
	if t.live {
		t.bars.remove(e.Step.String())
	}
	t.println(fmt.Sprintf("%s: %s × %d: %s (%s)", e.Step, p.method, p.total, summary, roundDuration(time.Since(p.started))))
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// JSON renders events as NDJSON: one JSON object per line, each with a
// "type" (see docs/events.md). The last line of a run or a plan is
// {"type":"outputs","outputs":{...}}.
type JSON struct {
	w io.Writer
}

// NewJSON returns a JSON renderer writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// jsonEvent is the wire form of an event.
type jsonEvent struct {
	Type      string          `json:"type"`
	Step      string          `json:"step,omitempty"`
	Key       json.RawMessage `json:"key,omitempty"`
	Method    string          `json:"method,omitempty"`
	Instances *int            `json:"instances,omitempty"`
	Attempt   int             `json:"attempt,omitempty"`
	WaitMS    *int64          `json:"wait_ms,omitempty"`
	ElapsedMS *int64          `json:"elapsed_ms,omitempty"`
	Pages     int             `json:"pages,omitempty"`
	Error     string          `json:"error,omitempty"`
	// failed: the instance, the failure's class, and an API error's code
	Instance string `json:"instance,omitempty"`
	Class    string `json:"class,omitempty"`
	Code     int    `json:"code,omitempty"`
	Name     string `json:"name,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	// FromScript marks the lines of a call a script step made.
	FromScript bool `json:"from_script,omitempty"`
	Total      *int `json:"total,omitempty"` // expanded, in a sharded run: instances in every shard
	// state
	Path     string `json:"path,omitempty"`
	Resumed  *bool  `json:"resumed,omitempty"`
	Recorded *int   `json:"recorded,omitempty"`
	// stopping
	InFlight *int `json:"in_flight,omitempty"`
}

// jsonProgress is a progress line: how far each running for_each step has
// come.
type jsonProgress struct {
	Type  string             `json:"type"`
	Steps []jsonStepProgress `json:"steps"`
	Paced []jsonPaced        `json:"paced,omitempty"` // sessions whose pace bounds the run
}

type jsonPaced struct {
	Session string  `json:"session"`
	Rate    float64 `json:"rate"`
}

type jsonStepProgress struct {
	Step      string  `json:"step"`
	Method    string  `json:"method"`
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Reused    int     `json:"reused"`
	Failed    int     `json:"failed"`
	Skipped   int     `json:"skipped"`
	Retries   int     `json:"retries"`
	ElapsedMS int64   `json:"elapsed_ms"`
	Rate      float64 `json:"rate"`             // calls per second in this run
	ETAMS     *int64  `json:"eta_ms,omitempty"` // absent until it can be told
	// An upload step's bytes sent and to send, by this run's instances.
	Bytes      int64 `json:"bytes,omitempty"`
	TotalBytes int64 `json:"total_bytes,omitempty"`
}

// jsonOutputs is the last line of a run or a plan.
type jsonOutputs struct {
	Type    string                     `json:"type"`
	Outputs map[string]json.RawMessage `json:"outputs"`
}

// Observe writes one event as a line.
func (j *JSON) Observe(e engine.Event) {
	je := jsonEvent{Type: string(e.Type), Method: e.Method, Reason: e.Reason, Message: e.Message, FromScript: e.FromScript}
	if e.Step.Name != "" {
		je.Step = e.Step.String()
	}
	if e.HasKey() {
		je.Key = lang.DisplayJSON(e.Key)
	}
	switch e.Type {
	case engine.EventExpanded:
		je.Instances = &e.Instances
		if e.Total > e.Instances {
			je.Total = &e.Total
		}
	case engine.EventState:
		je.Path, je.Resumed, je.Recorded = e.Path, &e.Resumed, &e.Recorded
	case engine.EventStopping:
		je.InFlight = &e.InFlight
	case engine.EventProgress:
		jp := progressJSON(e.Progress)
		for _, ps := range e.Paced {
			jp.Paced = append(jp.Paced, jsonPaced{Session: ps.Name, Rate: math.Round(ps.Rate*10) / 10})
		}
		j.write(jp)
		return
	case engine.EventRetried:
		je.Attempt = e.Attempt
		ms := e.Wait.Milliseconds()
		je.WaitMS = &ms
	case engine.EventFinished, engine.EventFailed:
		ms := e.Elapsed.Milliseconds()
		je.ElapsedMS = &ms
		je.Pages = e.Pages
	case engine.EventOutputs:
		j.Outputs(e.Outputs)
		return
	}
	if e.Err != nil {
		je.Error = e.Err.Error()
	}
	if e.Type == engine.EventFailed {
		f := DescribeFailure(e)
		je.Instance, je.Class, je.Code, je.Name = engine.InstanceName(e.Step, e.Key), f.Class, f.Code, f.Name
		if je.Error == "" && e.Diags.HasErrors() {
			je.Error = e.Diags.Error()
		}
	}
	j.write(je)
}

func progressJSON(steps []engine.StepProgress) jsonProgress {
	jp := jsonProgress{Type: string(engine.EventProgress), Steps: make([]jsonStepProgress, len(steps))}
	for i, p := range steps {
		js := jsonStepProgress{Step: p.Step.String(), Method: p.Method, Total: p.Total, Done: p.Done, Reused: p.Reused,
			Failed: p.Failed, Skipped: p.Skipped, Retries: p.Retries, ElapsedMS: p.Elapsed.Milliseconds(),
			Rate: math.Round(p.Rate*10) / 10, Bytes: p.Bytes, TotalBytes: p.TotalBytes}
		if p.ETA > 0 {
			ms := p.ETA.Milliseconds()
			js.ETAMS = &ms
		}
		jp.Steps[i] = js
	}
	return jp
}

func (j *JSON) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"type": "error", "error": err.Error()})
	}
	b = append(b, '\n')
	_, _ = j.w.Write(b)
}

// OutputsJSON maps each output to its JSON value, "(sensitive)" for
// sensitive ones.
func OutputsJSON(outs []engine.OutputValue) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(outs))
	for _, o := range outs {
		v := o.Value
		if o.Sensitive {
			v = lang.Sensitive(v)
		}
		m[o.Name] = lang.DisplayJSON(v)
	}
	return m
}

// FormatVersion is the version of the NDJSON event format (see
// docs/events.md and docs/events.schema.json): the minor number grows
// when lines or fields are added, the major one when any is changed or
// removed.
const FormatVersion = "1.1"

// Version writes the first line of every NDJSON stream: the format's
// version and the program's.
func (j *JSON) Version(program string) {
	j.write(struct {
		Type          string `json:"type"`
		FormatVersion string `json:"format_version"`
		Program       string `json:"okru_run"`
	}{"version", FormatVersion, program})
}

// Outputs writes the outputs line, the last of a run or a plan.
func (j *JSON) Outputs(outs []engine.OutputValue) {
	j.write(jsonOutputs{Type: string(engine.EventOutputs), Outputs: OutputsJSON(outs)})
}

// Diagnostics writes diagnostics as JSON lines of type "diagnostic", with
// a snippet of the source from files when they have one. The failures of
// instances that differ only by the instance are one line, naming the
// others in similar_instances.
func (j *JSON) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, g := range GroupDiagnostics(diags) {
		jd := diagJSON(g.Diag, files)
		jd.Instance = g.Instance
		if len(g.Others) > 0 {
			n := len(g.Others)
			jd.Similar, jd.SimilarInstances = &n, g.Others
		}
		j.write(jd)
	}
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiag struct {
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Where: the start of Range, and the source lines it covers.
	File    string     `json:"file,omitempty"`
	Line    int        `json:"line,omitempty"`
	Column  int        `json:"column,omitempty"`
	Snippet string     `json:"snippet,omitempty"`
	Range   *jsonRange `json:"range,omitempty"`
	// Instance is the failed instance the diagnostic is about; Similar
	// counts the other instances that failed the same way.
	Instance         string   `json:"instance,omitempty"`
	Similar          *int     `json:"similar,omitempty"`
	SimilarInstances []string `json:"similar_instances,omitempty"`
}

// snippetLines is how many source lines a JSON diagnostic quotes at most.
const snippetLines = 3

func diagJSON(d *hcl.Diagnostic, files map[string]*hcl.File) jsonDiag {
	jd := jsonDiag{Type: "diagnostic", Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		jd.Severity = "warning"
	}
	if s := d.Subject; s != nil {
		jd.Range = &jsonRange{Filename: s.Filename,
			Start: jsonPos{s.Start.Line, s.Start.Column},
			End:   jsonPos{s.End.Line, s.End.Column}}
		jd.File, jd.Line, jd.Column = s.Filename, s.Start.Line, s.Start.Column
		if f := files[s.Filename]; f != nil && linesFit(f.Bytes, d) {
			jd.Snippet = sourceLines(f.Bytes, s.Start.Line, min(s.End.Line, s.Start.Line+snippetLines-1))
		}
	}
	return jd
}

// sourceLines returns lines first to last (1-based) of src, without the
// final line end.
func sourceLines(src []byte, first, last int) string {
	lines := strings.SplitAfter(string(src), "\n")
	if first < 1 || first > len(lines) {
		return ""
	}
	last = min(max(last, first), len(lines))
	return strings.TrimRight(strings.Join(lines[first-1:last], ""), "\r\n")
}

// Diagnostics prints diagnostics with file, line, column and a source
// snippet, coloured when color is set. width wraps details; 0 does not.
func Diagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool, width uint) {
	if len(diags) == 0 {
		return
	}
	for _, d := range diags {
		// HCL's writer takes its snippets from the files it is given.
		fs := files
		if f := d.Subject; f != nil && files[f.Filename] != nil && !linesFit(files[f.Filename].Bytes, d) {
			fs = nil
		}
		_ = hcl.NewDiagnosticTextWriter(w, fs, width, color).WriteDiagnostic(d)
	}
}

// maxSnippetLine is the longest source line a diagnostic quotes. A snippet
// quotes its lines whole, and the text refused for its size (a file nested
// too deeply, a huge -var value) is often one line of megabytes.
const maxSnippetLine = 1000

// linesFit reports whether the lines d's subject and context cover are
// short enough to quote.
func linesFit(src []byte, d *hcl.Diagnostic) bool {
	for _, r := range []*hcl.Range{d.Subject, d.Context} {
		if r == nil {
			continue
		}
		from, to := min(r.Start.Byte, len(src)), min(max(r.End.Byte, r.Start.Byte), len(src))
		start := bytes.LastIndexByte(src[:from], '\n') + 1
		end := bytes.IndexByte(src[to:], '\n')
		if end < 0 {
			end = len(src) - to
		}
		// Each line of the span must fit; a span of many short lines is
		// quoted only in part by the JSON view, and whole by HCL's writer.
		for line := range bytes.SplitSeq(src[start:to+end], []byte("\n")) {
			if len(line) > maxSnippetLine {
				return false
			}
		}
	}
	return true
}

// Outputs prints outputs as name = value lines in HCL syntax.
func Outputs(w io.Writer, outs []engine.OutputValue) {
	width := 0
	for _, o := range outs {
		width = max(width, len(o.Name))
	}
	for _, o := range outs {
		v := o.Value
		if o.Sensitive {
			v = lang.Sensitive(v)
		}
		fmt.Fprintf(w, "%-*s = %s\n", width, o.Name, lang.FormatValue(v, 0))
	}
}

// PlanSample is how many instances of a for_each step a text plan shows
// unless asked for all: a plan of 100,000 calls stays readable.
const PlanSample = 3

// Plan writes a plan for people: each planned call with its parameters,
// where a for_each step shows its first PlanSample instances and a count
// of the others unless detail is set, then the outputs, the pace of each
// session and a summary.
func Plan(w io.Writer, p *engine.Plan, detail bool) {
	for _, s := range p.Steps {
		if detail || !s.HasForEach || s.Count <= PlanSample+1 {
			for _, inst := range s.Instances {
				planInstance(w, s, inst)
			}
			continue
		}
		fmt.Fprintf(w, "%s: %s × %d", s.Addr, s.Method, s.Count-s.Skipped)
		if s.Skipped > 0 {
			fmt.Fprintf(w, " (and %d skipped, when is false)", s.Skipped)
		}
		fmt.Fprintf(w, ", the first %d:\n\n", PlanSample)
		for _, inst := range s.Instances[:min(PlanSample, len(s.Instances))] {
			planInstance(w, s, inst)
		}
		fmt.Fprintf(w, "... and %d more instances of %s (plan -detail shows every one)\n\n", s.Count-PlanSample, s.Addr)
	}
	planChecks(w, p.Checks)
	if len(p.Outputs) > 0 {
		fmt.Fprintln(w, "Outputs:")
		var b strings.Builder
		Outputs(&b, p.Outputs)
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
		fmt.Fprintln(w)
	}
	for _, l := range PaceLines(p) {
		fmt.Fprintln(w, l)
	}
	known, pending := p.Calls()
	msg := fmt.Sprintf("Plan: %s", plural(known, "call"))
	if pending > 0 {
		msg += fmt.Sprintf(", and %s whose calls are known only after an earlier call", plural(pending, "for_each step"))
	}
	if scripts := p.Scripts(); scripts > 0 {
		msg += fmt.Sprintf(", and %s, whose calls are known only when run", plural(scripts, "script step"))
	}
	fmt.Fprintln(w, msg+". Nothing was called.")
}

// PaceLines says, for each session of a plan that makes calls, how fast it
// may call and so how long its known calls take at least: the default
// pace of 3 calls/s surprises whoever plans a batch of thousands.
func PaceLines(p *engine.Plan) []string {
	calls := map[string]int{}
	for _, s := range p.Steps {
		if s.Kind == lang.StepScript || s.ForEach != cty.NilVal {
			continue
		}
		calls[s.Session] += s.Count - s.Skipped
	}
	var lines []string
	for _, sess := range p.Sessions {
		n := calls[sess.Name]
		switch {
		case sess.RateLimit < 0:
			lines = append(lines, fmt.Sprintf("Session %q: not paced (rate_limit = \"unlimited\").", sess.Name))
		case sess.RateLimit == 0:
			lines = append(lines, fmt.Sprintf("Session %q: paced at %s calls/s, the default (set rate_limit in the session block, or \"unlimited\")%s.",
				sess.Name, strconv.FormatFloat(engine.DefaultRateLimit, 'f', -1, 64), paceTime(n, engine.DefaultRateLimit)))
		default:
			lines = append(lines, fmt.Sprintf("Session %q: paced at %s calls/s (rate_limit)%s.", sess.Name, strconv.FormatFloat(sess.RateLimit, 'f', -1, 64), paceTime(n, sess.RateLimit)))
		}
	}
	return lines
}

// paceTime says how long n calls take at least at rate calls/s, when
// that is long enough to matter.
func paceTime(n int, rate float64) string {
	d := time.Duration(float64(n) / rate * float64(time.Second))
	if d < 10*time.Second {
		return ""
	}
	return fmt.Sprintf(": its %s take at least %s", plural(n, "call"), d.Round(time.Second))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func planInstance(w io.Writer, s engine.PlannedStep, inst engine.PlannedInstance) {
	head := fmt.Sprintf("%s: %s (session %q", engine.InstanceName(s.Addr, inst.Key), s.Method, s.Session)
	if s.Kind == lang.StepScript {
		head = fmt.Sprintf("%s: %s script %s (default session %q", engine.InstanceName(s.Addr, inst.Key), s.Method, scriptSource(s), s.Session)
		if s.Session == "" {
			head = fmt.Sprintf("%s: %s script %s (no default session", engine.InstanceName(s.Addr, inst.Key), s.Method, scriptSource(s))
		}
	}
	if s.Paginate {
		head += ", all pages"
	}
	head += ")"
	if inst.When.IsKnown() && inst.When.False() {
		fmt.Fprintf(w, "%s: skipped, when is false\n\n", head)
		return
	}
	fmt.Fprintln(w, head)
	type row struct{ name, value string }
	var rows []row
	if s.ForEach != cty.NilVal {
		rows = append(rows, row{"for_each", lang.FormatValue(s.ForEach, 2)})
	}
	if !inst.When.IsKnown() {
		rows = append(rows, row{"when", lang.FormatValue(inst.When, 2)})
	}
	if len(s.DependsOn) > 0 {
		var names []string
		for _, a := range s.DependsOn {
			names = append(names, a.String())
		}
		rows = append(rows, row{"depends_on", "[" + strings.Join(names, ", ") + "]"})
	}
	if s.Kind == lang.StepScript {
		rows = append(rows, row{"input", lang.FormatValue(inst.Input, 2)})
	}
	params, _ := inst.Params.Unmark()
	switch {
	case s.Kind == lang.StepScript:
	case !params.IsKnown() || inst.Params.IsMarked():
		rows = append(rows, row{"params", lang.FormatValue(inst.Params, 2)})
	case !params.IsNull():
		var names []string
		vals := map[string]cty.Value{}
		for it := params.ElementIterator(); it.Next(); {
			k, v := it.Element()
			names = append(names, k.AsString())
			vals[k.AsString()] = v
		}
		sort.Strings(names)
		for _, n := range names {
			rows = append(rows, row{n, lang.FormatValue(vals[n], 2)})
		}
	}
	for _, a := range inst.Assertions {
		rows = append(rows, row{a.Kind, AssertionText(a)})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s = %s\n", width, r.name, r.value)
	}
	fmt.Fprintln(w)
}

// scriptSource names where a planned script's Lua is.
func scriptSource(s engine.PlannedStep) string {
	if s.ScriptFile == "" {
		return "(inline)"
	}
	return s.ScriptFile
}

// jsonPlanStep is the wire form of one planned call or script instance.
type jsonPlanStep struct {
	Type      string          `json:"type"`
	Step      string          `json:"step"`
	Key       json.RawMessage `json:"key,omitempty"`
	Method    string          `json:"method"`
	Session   string          `json:"session"`
	Paginate  bool            `json:"paginate,omitempty"`
	ForEach   json.RawMessage `json:"for_each,omitempty"`
	When      json.RawMessage `json:"when,omitempty"`
	DependsOn []string        `json:"depends_on,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	File      string          `json:"file,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	// Assertions are the instance's preconditions and postconditions.
	Assertions []jsonAssertion `json:"assertions,omitempty"`
}

// Plan writes a plan as NDJSON: a line of type "call" (or "script", or
// "upload" whose params are its arguments: files, album_id, ...) per
// planned instance, then {"type":"plan_summary"} and {"type":"outputs"}.
// Values not known yet are strings "(known after call.NAME)", sensitive
// ones "(sensitive)".
func (j *JSON) Plan(p *engine.Plan) {
	for _, s := range p.Steps {
		for _, inst := range s.Instances {
			js := jsonPlanStep{Type: "call", Step: s.Addr.String(), Method: s.Method, Session: s.Session,
				Paginate: s.Paginate, Params: lang.DisplayJSON(inst.Params)}
			if s.Kind == lang.StepScript {
				js.Type, js.Params, js.File, js.Input = "script", nil, s.ScriptFile, lang.DisplayJSON(inst.Input)
			}
			if s.Kind == lang.StepUpload {
				js.Type = "upload"
			}
			if inst.Key != cty.NilVal {
				js.Key = lang.DisplayJSON(inst.Key)
			}
			if s.ForEach != cty.NilVal {
				js.ForEach = lang.DisplayJSON(s.ForEach)
			}
			if !inst.When.IsKnown() || inst.When.False() {
				js.When = lang.DisplayJSON(inst.When)
			}
			for _, a := range s.DependsOn {
				js.DependsOn = append(js.DependsOn, a.String())
			}
			js.Assertions = jsonAssertions(inst.Assertions)
			j.write(js)
		}
	}
	j.planChecks(p.Checks)
	known, pending := p.Calls()
	j.write(struct {
		Type         string `json:"type"`
		Calls        int    `json:"calls"`
		PendingSteps int    `json:"pending_steps"`
		ScriptSteps  int    `json:"script_steps"`
	}{"plan_summary", known, pending, p.Scripts()})
	j.Outputs(p.Outputs)
}
