package main

import (
	"bytes"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/lang"
)

// Loading a workflow (or the workflow around a .lua script) and resolving
// its variables: the first two stages of plan, run and validate.

// loaded is a workflow ready to plan or run.
type loaded struct {
	cfg   *lang.Config
	wf    *engine.Workflow
	color bool
}

// load loads and compiles a workflow, printing diagnostics (warnings too).
func load(env *cliEnv, path string, color bool) (*loaded, bool) {
	cfg, diags := loadConfig(path) // a workflow, or a .lua script
	if !diags.HasErrors() {
		var d hcl.Diagnostics
		wf, d := engine.Compile(cfg)
		diags = append(diags, d...)
		render.Diagnostics(env.stderr, cfg.Files(), diags, color, 0)
		return &loaded{cfg: cfg, wf: wf, color: color}, !diags.HasErrors()
	}
	render.Diagnostics(env.stderr, cfg.Files(), diags, color, 0)
	return nil, false
}

// inputs resolves the variables of a workflow.
func (l *loaded) inputs(env *cliEnv, f *workflowFlags) (engine.Inputs, bool) {
	getenv, ok := f.credentialsGetenv(env)
	if !ok {
		return engine.Inputs{}, false
	}
	scope := lang.Scope{Dir: l.cfg.Dir, Getenv: getenv}
	vals, diags := l.cfg.ResolveVariables(lang.Inputs{Getenv: getenv, VarFiles: f.varFiles, Vars: f.vars}, scope)
	// The redactor of the run does not exist yet: hide the sensitive
	// values given (a -var-file snippet may quote one) here.
	var buf bytes.Buffer
	render.Diagnostics(&buf, l.cfg.Files(), diags, l.color, 0)
	if buf.Len() > 0 {
		secrets := sensitiveInputs(l.cfg, getenv, f.varFiles, f.vars)
		io.WriteString(env.stderr, redactVarSecrets(buf.String(), secrets))
	}
	return engine.Inputs{Variables: vals, Getenv: getenv}, !diags.HasErrors()
}

// loadConfig loads a workflow, or the workflow around a .lua script (with
// no sessions: for plan, graph and validate, which call nothing).
func loadConfig(path string) (*lang.Config, hcl.Diagnostics) {
	if isScriptPath(path) {
		return lang.LoadScriptRun(lang.ScriptRun{Path: path})
	}
	return lang.Load(path)
}
