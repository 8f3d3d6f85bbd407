package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
)

// Tally counts how the instances of a run's steps ended, for the summary
// at its end. It is an engine.Observer; feed it every event of the run.
//
// The unit is the instance: one per step without for_each, one per key
// of a for_each step. A for_each step that never expanded (skipped, or not
// reached) counts once, as its instances are not known.
type Tally struct {
	begun  time.Time
	steps  []*StepTally
	byStep map[lang.Address]*StepTally
}

// StepTally is how the instances of one step ended.
type StepTally struct {
	Step                                 lang.Address
	Method                               string
	Expanded                             bool // a for_each step whose instances are known
	Total                                int  // instances: 1 until a for_each expands
	OK, Failed, Skipped, Reused, Unknown int
}

// NotStarted counts the instances that never ran and were never skipped:
// those left when a run stopped at a failure or an interrupt.
func (s StepTally) NotStarted() int {
	return max(0, s.Total-s.OK-s.Failed-s.Skipped-s.Reused-s.Unknown)
}

// NewTally returns a Tally of steps (see engine.Workflow.Steps), its
// clock started now.
func NewTally(steps []engine.StepInfo) *Tally {
	t := &Tally{begun: time.Now(), byStep: map[lang.Address]*StepTally{}}
	for _, s := range steps {
		st := &StepTally{Step: s.Addr, Method: s.Method, Total: 1}
		t.steps = append(t.steps, st)
		t.byStep[s.Addr] = st
	}
	return t
}

// Observe counts one event.
func (t *Tally) Observe(e engine.Event) {
	s := t.byStep[e.Step]
	if s == nil || e.FromScript {
		return
	}
	if e.Type == engine.EventExpanded {
		s.Expanded, s.Total = true, e.Instances
		return
	}
	if s.Expanded != e.HasKey() {
		// A whole for_each step skipped before it expanded, or an event
		// of an instance of a step not expanded (which does not happen).
		if !(e.Type == engine.EventSkipped && !s.Expanded) {
			return
		}
	}
	switch e.Type {
	case engine.EventFinished:
		s.OK++
	case engine.EventFailed:
		s.Failed++
	case engine.EventSkipped:
		s.Skipped++
	case engine.EventReused:
		s.Reused++
	case engine.EventUnknown:
		s.Unknown++
	}
}

// Summary is the tally of a whole run.
type Summary struct {
	StepTally // the sums; Step and Method are empty
	Elapsed   time.Duration
	Steps     []StepTally
}

// Summary returns the sums so far and the time since NewTally.
func (t *Tally) Summary() Summary {
	s := Summary{Elapsed: time.Since(t.begun)}
	for _, st := range t.steps {
		s.Steps = append(s.Steps, *st)
		s.Total += st.Total
		s.OK += st.OK
		s.Failed += st.Failed
		s.Skipped += st.Skipped
		s.Reused += st.Reused
		s.Unknown += st.Unknown
	}
	return s
}

// counts is "950 ok, 47 failed, 3 skipped, 0 reused, 0 unknown, 0 not started".
func (s StepTally) counts() string {
	return fmt.Sprintf("%d ok, %d failed, %d skipped, %d reused, %d unknown, %d not started",
		s.OK, s.Failed, s.Skipped, s.Reused, s.Unknown, s.NotStarted())
}

// nonZero is counts without the zeros: "950 ok, 47 failed".
func (s StepTally) nonZero() string {
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{s.OK, "ok"}, {s.Failed, "failed"}, {s.Skipped, "skipped"}, {s.Reused, "reused"}, {s.Unknown, "unknown"}, {s.NotStarted(), "not started"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		return "no instances"
	}
	return strings.Join(parts, ", ")
}

// WriteSummary writes the summary for people: a line of sums and the wall
// time, then a line per step when there is more than one.
func WriteSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "Summary: %s in %s\n", s.counts(), roundDuration(s.Elapsed))
	if len(s.Steps) < 2 {
		return
	}
	for _, st := range s.Steps {
		fmt.Fprintf(w, "  %s: %s\n", st.Step, st.nonZero())
	}
}

// jsonCounts are the counts of a summary line or of one of its steps.
type jsonCounts struct {
	OK         int `json:"ok"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	Reused     int `json:"reused"`
	Unknown    int `json:"unknown"`
	NotStarted int `json:"not_started"`
}

type jsonStepSummary struct {
	Step   string `json:"step"`
	Method string `json:"method"`
	// Instances is absent for a for_each step that never expanded.
	Instances *int `json:"instances,omitempty"`
	jsonCounts
}

type jsonSummary struct {
	Type string `json:"type"`
	jsonCounts
	ElapsedMS int64             `json:"elapsed_ms"`
	Steps     []jsonStepSummary `json:"steps"`
}

func countsJSON(s StepTally) jsonCounts {
	return jsonCounts{OK: s.OK, Failed: s.Failed, Skipped: s.Skipped, Reused: s.Reused, Unknown: s.Unknown, NotStarted: s.NotStarted()}
}

// Summary writes the summary line of a run.
func (j *JSON) Summary(s Summary) {
	js := jsonSummary{Type: "summary", jsonCounts: countsJSON(s.StepTally), ElapsedMS: s.Elapsed.Milliseconds(),
		Steps: []jsonStepSummary{}}
	for _, st := range s.Steps {
		jst := jsonStepSummary{Step: st.Step.String(), Method: st.Method, jsonCounts: countsJSON(st)}
		if st.Expanded {
			jst.Instances = &st.Total
		}
		js.Steps = append(js.Steps, jst)
	}
	j.write(js)
}

// DiagGroup is a diagnostic and the instances that failed the same way.
type DiagGroup struct {
	Diag *hcl.Diagnostic
	// Instance is the instance of Diag, "" when it is about no instance.
	Instance string
	// Others are the instances whose diagnostic differs from Diag only by
	// the instance's name, in the order they came.
	Others []string
}

// GroupDiagnostics groups the diagnostics of failed instances (those whose
// Extra is an engine.FailedInstance) that say the same thing at the same
// place once the instance's name is taken out: one group per distinct
// failure, in the order of the first of each. Other diagnostics stay
// groups of one, but a diagnostic that repeats another to the letter at the
// same place is dropped: an expression such as [for f in xs : f.name]
// reports its error once per element.
func GroupDiagnostics(diags hcl.Diagnostics) []DiagGroup {
	var groups []DiagGroup
	byKey := map[string]int{}
	seen := map[string]bool{}
	for _, d := range diags {
		fi, ok := hcl.DiagnosticExtra[engine.FailedInstance](d)
		if !ok || fi.Instance == "" {
			if key := groupKey(d, "\x00"); !seen[key] {
				seen[key] = true
				groups = append(groups, DiagGroup{Diag: d})
			}
			continue
		}
		key := groupKey(d, fi.Instance)
		if i, ok := byKey[key]; ok {
			groups[i].Others = append(groups[i].Others, fi.Instance)
			continue
		}
		byKey[key] = len(groups)
		groups = append(groups, DiagGroup{Diag: d, Instance: fi.Instance})
	}
	return groups
}

func groupKey(d *hcl.Diagnostic, instance string) string {
	rng := ""
	if d.Subject != nil {
		rng = d.Subject.String()
	}
	return fmt.Sprintf("%d\x00%s\x00%s\x00%s", d.Severity, rng,
		strings.ReplaceAll(d.Summary, instance, "\x01"), strings.ReplaceAll(d.Detail, instance, "\x01"))
}

// groupShown is how many instances a text line names of a group.
const groupShown = 5

// MoreLikeIt is the line that follows the first diagnostic of a group:
// "and 46 more like it (instances call.post[3], ..., call.post[20], ...)".
func MoreLikeIt(others []string) string {
	names := strings.Join(others[:min(groupShown, len(others))], ", ")
	if len(others) > groupShown {
		names += ", ..."
	}
	noun := "instances"
	if len(others) == 1 {
		noun = "instance"
	}
	return fmt.Sprintf("and %d more like it (%s %s)", len(others), noun, names)
}

// Failure classes of a failed event.
const (
	ClassAPI        = "api"        // ok.ru answered with an error code
	ClassTransport  = "transport"  // the exchange with the server failed
	ClassDecode     = "decode"     // the answer is not an ok.ru answer
	ClassEvaluation = "evaluation" // an expression failed; nothing was called
	ClassScript     = "script"     // a script step failed
	ClassAssertion  = "assertion"  // a precondition or postcondition is false
	ClassOther      = "other"
)

// Failure says why an instance failed, for machines: Class, and the ok.ru
// error code with its name for an API error.
type Failure struct {
	Class string
	Code  int    // 0 unless Class is ClassAPI
	Name  string // e.g. "PARAM"; "" unless Class is ClassAPI
}

// DescribeFailure classifies the failure a failed event reports.
func DescribeFailure(e engine.Event) Failure {
	var apiErr *okru.Error
	var transport *okru.TransportError
	var redirect *okru.RedirectError
	var decode *okru.DecodeError
	var eval *engine.EvalError
	err := e.Err
	switch {
	case errors.As(err, &apiErr):
		return Failure{Class: ClassAPI, Code: int(apiErr.Code), Name: apiErr.Name()}
	case errors.Is(err, okru.CodeSessionRequired), errors.Is(err, okru.CodeNotSessionMethod):
		// Refused before sending, as the server would have refused it.
		c := okru.CodeSessionRequired
		if errors.Is(err, okru.CodeNotSessionMethod) {
			c = okru.CodeNotSessionMethod
		}
		return Failure{Class: ClassAPI, Code: int(c), Name: c.Name()}
	case errors.As(err, &transport), errors.As(err, &redirect), errors.Is(err, context.DeadlineExceeded):
		return Failure{Class: ClassTransport}
	case errors.As(err, &decode):
		return Failure{Class: ClassDecode}
	case errors.As(err, new(*engine.AssertionError)):
		return Failure{Class: ClassAssertion}
	case e.Method == lang.ScriptMethod:
		return Failure{Class: ClassScript}
	case err == nil || errors.As(err, &eval):
		// A parameter, for_each or when that could not be evaluated.
		return Failure{Class: ClassEvaluation}
	}
	return Failure{Class: ClassOther}
}
