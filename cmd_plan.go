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
	color := useColor(env, f.color, env.stderr)
	l, ok := load(env, path, color)
	if !ok {
		return exitInvalid
	}
	in, ok := l.inputs(env, &f)
	if !ok {
		return exitInvalid
	}
	secrets := l.wf.Secrets(in)
	if f.sandbox {
		// Planning calls nothing; the sandbox only lends its credentials to
		// the redaction, as a run would.
		srv, _, sb, err := startSandbox(f.sb)
		if err != nil {
			fmt.Fprintf(env.stderr, "okru-run plan: %v\n", err)
			return exitFailed
		}
		srv.Close()
		secrets = append(secrets, sb...)
	}
	stdout := newRedactor(env.stdout, secrets)
	stderr := newRedactor(env.stderr, secrets)
	defer stdout.Flush()
	defer stderr.Flush()
	var p *engine.Plan
	var diags hcl.Diagnostics
	if detail || f.json {
		p, diags = l.wf.Plan(ctx, in)
	} else {
		// The text shows a few instances of each step: plan no more.
		p, diags = l.wf.PlanSample(ctx, in, render.PlanSample+1)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "okru-run plan: interrupted; nothing was called")
		return exitInterrupted
	}
	render.Diagnostics(stderr, l.cfg.Files(), diags, color, 0)
	if f.json {
		j := render.NewJSON(stdout)
		j.Diagnostics(diags)
		if !diags.HasErrors() {
			j.Plan(p)
		}
	} else if !diags.HasErrors() {
		render.Plan(stdout, p, detail)
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	if diags.HasErrors() {
		return exitInvalid
	}
	return exitOK
}
