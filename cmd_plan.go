package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
)

func init() {
	register("plan", "show what a run would call, without calling", cmdPlan)
}

func cmdPlan(ctx context.Context, env *cliEnv, args []string) int {
	var f workflowFlags
	var detail bool
	fs := newFlagSet(env, "plan", "plan [flags] [FILE|DIR]")
	f.register(fs)
	fs.Lookup("sandbox").Usage = "plan with the in-process sandbox's demo credentials in place of the workflow's (nothing is called)"
	fs.BoolVar(&detail, "detail", false, fmt.Sprintf("show every instance of a for_each step, not only its first %d", render.PlanSample))
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, f.color) {
		return exitInvalid
	}
	path, ok := workflowPath(env, "plan", pos)
	if !ok {
		return exitInvalid
	}
	v := newView(env, viewOptions{json: f.json, color: useColor(env, f.color, env.stderr)})
	defer v.close()
	l, ok := load(v, path)
	if !ok {
		return endEarly(v, exitInvalid)
	}
	in, ok := l.inputs(env, v, &f)
	if !ok {
		return endEarly(v, exitInvalid)
	}
	v.addSecrets(l.wf.Secrets(in))
	if f.sandbox {
		// Planning calls nothing; the sandbox only lends its credentials to
		// the redaction, as a run would.
		srv, _, sb, err := startSandbox(f.sb)
		if err != nil {
			fmt.Fprintf(v.stderr(), "okru-run plan: %v\n", err)
			return endEarly(v, exitFailed)
		}
		srv.Close()
		v.addSecrets(sb)
	}
	var p *engine.Plan
	var diags hcl.Diagnostics
	if detail || f.json {
		p, diags = l.wf.Plan(ctx, in)
	} else {
		// The text shows a few instances of each step: plan no more.
		p, diags = l.wf.PlanSample(ctx, in, render.PlanSample+1)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(v.stderr(), "okru-run plan: interrupted; nothing was called")
		return endEarly(v, exitInterrupted)
	}
	v.Diagnostics(l.cfg.Files(), diags)
	if diags.HasErrors() {
		return endEarly(v, exitInvalid)
	}
	v.Plan(p, detail) // the outputs are part of the plan
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return exitOK
}
