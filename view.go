package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/lang"
)

// A view is how a command shows what it does, chosen once from its flags
// (text for people, or -json), as Terraform's command views are: every
// diagnostic of every stage, the events of a run, a plan, the summary and
// the outputs go through it, so that one format holds for the whole
// output. Both write through redactors, which the command gives the
// secrets of the run as it learns them.
//
// Data goes to stdout (outputs, plans, JSON lines), messages for people
// to stderr (diagnostics as text, events, the summary).
type view interface {
	engine.Observer // the events of a run; the outputs event is held for Outputs

	// Diagnostics shows diagnostics of any stage; files give the snippets.
	Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics)
	// Plan shows a plan; detail shows every instance of a for_each step.
	Plan(p *engine.Plan, detail bool)
	// Summary shows how a run's instances ended.
	Summary(s render.Summary)
	// Outputs shows the outputs of a run or a plan: always the last thing
	// a JSON view writes. ok is false when the run failed.
	Outputs(outs []engine.OutputValue, ok bool)
	// Result ends a validate: whether the workflow is valid.
	Result(path string, valid bool)
	// TestFile shows how the runs of a test file ended, and the
	// diagnostics of each (see view_tests.go); TestSummary ends a test.
	TestFile(fr fileResult, files map[string]*hcl.File)
	TestSummary(s render.TestSummary)

	// addSecrets hides more values in everything written from now on.
	addSecrets(secrets []string)
	// stderr is the redacting writer for messages.
	stderr() *redactor
	// close flushes what is left.
	close()
}

// viewOptions choose a view.
type viewOptions struct {
	json  bool
	color bool
	// live draws progress bars: text on a terminal.
	live bool
	// scriptResult: the outputs are a script run's, shown as its JSON
	// result (text), and only when the run succeeded.
	scriptResult bool
}

// newView returns the view opts choose, writing to env's stdout and
// stderr through redactors. The caller closes it.
func newView(env *cliEnv, opts viewOptions) view {
	out := outputs{stdout: newRedactor(env.stdout, nil), errs: newRedactor(env.stderr, nil), color: opts.color}
	if opts.json {
		// A consumer reads the lines' strings decoded: they are
		// redacted so, not only as they are written.
		out.stdout = newJSONRedactor(env.stdout)
		j := &jsonView{outputs: out, j: render.NewJSON(out.stdout)}
		j.j.Version(version)
		return j
	}
	return &textView{outputs: out, text: render.NewText(out.errs, opts.color, opts.live), scriptResult: opts.scriptResult}
}

// outputs are the redacting writers of a view.
type outputs struct {
	stdout, errs *redactor
	color        bool
}

func (o *outputs) addSecrets(secrets []string) {
	o.stdout.add(secrets)
	o.errs.add(secrets)
}

func (o *outputs) stderr() *redactor { return o.errs }

func (o *outputs) close() {
	o.stdout.Flush()
	o.errs.Flush()
}

// textDiagnostics prints diagnostics with snippets, the failures that
// differ only by instance once, followed by how many more failed so.
func (o *outputs) textDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, g := range render.GroupDiagnostics(diags) {
		render.Diagnostics(o.errs, files, hcl.Diagnostics{g.Diag}, o.color, 0)
		if len(g.Others) > 0 {
			fmt.Fprintf(o.errs, "%s\n\n", render.MoreLikeIt(g.Others))
		}
	}
}

// textView is for people: outputs as name = value lines and plans on
// stdout, everything else on stderr.
type textView struct {
	outputs
	text         *render.Text
	scriptResult bool
}

func (v *textView) Observe(e engine.Event) {
	if e.Type != engine.EventOutputs {
		v.text.Observe(e)
	}
}

func (v *textView) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	v.textDiagnostics(files, diags)
}

func (v *textView) Plan(p *engine.Plan, detail bool) { render.Plan(v.stdout, p, detail) }

func (v *textView) Summary(s render.Summary) { render.WriteSummary(v.errs, s) }

func (v *textView) Outputs(outs []engine.OutputValue, ok bool) {
	if !v.scriptResult {
		render.Outputs(v.stdout, outs)
		return
	}
	if ok {
		writeScriptResult(v.stdout, outs)
	}
}

func (v *textView) Result(path string, valid bool) {
	if valid {
		fmt.Fprintf(v.errs, "%s is valid.\n", path)
	}
}

// jsonView writes NDJSON events on stdout (see docs/events.md): first a
// version line, then every diagnostic and event, and last the outputs.
// Diagnostics are also written as text on stderr, for the people who
// watch a CI log.
type jsonView struct {
	outputs
	j *render.JSON
}

func (v *jsonView) Observe(e engine.Event) {
	if e.Type != engine.EventOutputs {
		v.j.Observe(e)
	}
}

func (v *jsonView) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	v.textDiagnostics(files, diags)
	v.j.Diagnostics(files, diags)
}

func (v *jsonView) Plan(p *engine.Plan, _ bool) { v.j.Plan(p) }

func (v *jsonView) Summary(s render.Summary) { v.j.Summary(s) }

func (v *jsonView) Outputs(outs []engine.OutputValue, _ bool) { v.j.Outputs(outs) }

func (v *jsonView) Result(_ string, valid bool) {
	fmt.Fprintf(v.stdout, "{\"type\":\"result\",\"valid\":%t}\n", valid)
}

// viewFiles returns cfg's files for snippets; nil when nothing loaded.
func viewFiles(cfg *lang.Config) map[string]*hcl.File {
	if cfg == nil {
		return nil
	}
	return cfg.Files()
}
