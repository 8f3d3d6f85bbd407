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
	var detail, detailed bool
	fs := newFlagSet(env, "plan", "plan [flags] [FILE|DIR]")
	f.register(fs)
	fs.Lookup("sandbox").Usage = "plan with the in-process sandbox's demo credentials in place of the workflow's (nothing is called)"
	// plan takes a run's command line as it is, but the sandbox's graph
	// and pace change nothing in a plan: its help must not promise them.
	for _, name := range []string{"sandbox-seed", "sandbox-users", "sandbox-latency"} {
		fs.Lookup(name).Usage = "checked as for run but without effect: plan calls nothing (accepted so that a run's command line plans as it is)"
	}
	fs.BoolVar(&detail, "detail", false, fmt.Sprintf("show every instance of a for_each step, not only its first %d", render.PlanSample))
	fs.BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when nothing would be called, 2 when calls are planned, 1 on an error")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	o := cmdPlanRun(ctx, env, &f, detail, pos)
	if detailed {
		return o.detailedExit()
	}
	return o.code
}

// planOutcome is how a plan ended: its exit code, and whether it plans
// anything to call.
type planOutcome struct {
	code  int
	calls bool
}

// detailedExit is the exit code of -detailed-exitcode, Terraform's: 0
// when nothing would be called, 2 when calls are planned (a script step
// counts), 1 on an error of any kind, 130 when interrupted.
func (o planOutcome) detailedExit() int {
	switch {
	case o.code == exitInterrupted:
		return exitInterrupted
	case o.code != exitOK:
		return exitFailed
	case o.calls:
		return exitInvalid // 2, as Terraform says "changes present"
	}
	return exitOK
}

// cmdPlanRun plans the workflow at pos after the flags are parsed.
func cmdPlanRun(ctx context.Context, env *cliEnv, f *workflowFlags, detail bool, pos []string) planOutcome {
	if !f.check(env, "plan") {
		return planOutcome{code: exitInvalid}
	}
	path, ok := workflowPath(env, "plan", pos)
	if !ok {
		return planOutcome{code: exitInvalid}
	}
	v := newView(env, viewOptions{json: f.json, color: useColor(env, f.color, env.stderr)})
	defer v.close()
	l, ok := load(v, path, f.luaPath)
	if !ok {
		return planOutcome{code: endEarly(v, exitInvalid)}
	}
	in, ok := l.inputs(ctx, env, v, f)
	if !ok {
		return planOutcome{code: endEarly(v, inputsFailed(ctx))}
	}
	v.addSecrets(l.wf.Secrets(ctx, in))
	if f.sandbox {
		// Planning calls nothing; the sandbox only lends its credentials to
		// the redaction, as a run would.
		srv, _, sb, err := startSandbox(f.sb)
		if err != nil {
			fmt.Fprintf(v.stderr(), "okru-run plan: %v\n", err)
			return planOutcome{code: endEarly(v, exitFailed)}
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
		return planOutcome{code: endEarly(v, exitInterrupted)}
	}
	v.Diagnostics(l.cfg.Files(), diags)
	if diags.HasErrors() {
		return planOutcome{code: endEarly(v, exitInvalid)}
	}
	v.Plan(p, detail) // the outputs are part of the plan
	if ctx.Err() != nil {
		return planOutcome{code: exitInterrupted}
	}
	known, pending := p.Calls()
	return planOutcome{code: exitOK, calls: known > 0 || pending > 0 || p.Scripts() > 0}
}
