package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
)

// Loading a workflow (or the workflow around a .lua script) and resolving
// its variables: the first two stages of plan, run, validate and graph.
// Their diagnostics, warnings too, go to the command's view.

// loaded is a workflow ready to plan or run.
type loaded struct {
	cfg *lang.Config
	wf  *engine.Workflow
}

// load loads and compiles the workflow at path; luaPath are the folders
// of -lua-path.
func load(v view, path string, luaPath []string) (*loaded, bool) {
	cfg, diags := loadConfig(path) // a workflow, or a .lua script
	cfg.LuaPath = luaPath
	return compile(v, cfg, diags)
}

// compile compiles a loaded configuration, showing the diagnostics of
// both stages.
func compile(v view, cfg *lang.Config, diags hcl.Diagnostics) (*loaded, bool) {
	if diags.HasErrors() {
		v.Diagnostics(viewFiles(cfg), diags)
		return nil, false
	}
	wf, d := engine.Compile(cfg)
	diags = append(diags, d...)
	v.Diagnostics(cfg.Files(), diags)
	return &loaded{cfg: cfg, wf: wf}, !diags.HasErrors()
}

// inputs resolves the variables of a workflow. The values given to
// sensitive variables are secrets of the view from now on: a -var-file
// snippet in a diagnostic may quote one. A validation's lua:: call stops
// when ctx ends; the command is then interrupted (see inputsFailed).
func (l *loaded) inputs(ctx context.Context, env *cliEnv, v view, f *workflowFlags) (engine.Inputs, bool) {
	getenv, ok := f.credentialsGetenv(env)
	if !ok {
		return engine.Inputs{}, false
	}
	scope := lang.Scope{Dir: l.cfg.Dir, Getenv: getenv, Lua: l.wf.LuaFunctions(), Context: ctx}
	vals, diags := l.cfg.ResolveVariables(lang.Inputs{Getenv: getenv, VarFiles: f.varFiles, Vars: f.vars}, scope)
	if lang.Interrupted(ctx, diags) {
		fmt.Fprintln(v.stderr(), "okru-run: interrupted; nothing was called")
		return engine.Inputs{}, false
	}
	if len(diags) > 0 {
		v.addSecrets(sensitiveInputs(l.cfg, getenv, f.varFiles, f.vars))
		v.Diagnostics(l.cfg.Files(), diags)
	}
	return engine.Inputs{Variables: vals, Getenv: getenv}, !diags.HasErrors()
}

// inputsFailed is the exit code of a command whose inputs failed:
// interrupted if ctx ended (a validation's lua:: call was stopped), else
// invalid.
func inputsFailed(ctx context.Context) int {
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return exitInvalid
}

// loadConfig loads a workflow, or the workflow around a .lua script (with
// no sessions: for plan, graph and validate, which call nothing).
func loadConfig(path string) (*lang.Config, hcl.Diagnostics) {
	if isScriptPath(path) {
		return lang.LoadScriptRun(lang.ScriptRun{Path: path})
	}
	return lang.Load(path)
}
