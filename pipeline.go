package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
)

// The one pipeline of run and of .lua script runs, after their flags and
// their loading: the sandbox, the redaction, the events, the run, its
// diagnostics, summary and outputs, and the exit code.

// runSetup is what tells the runs of the pipeline apart.
type runSetup struct {
	path  string // the workflow or the script
	args  []string
	flags *workflowFlags
	batch *batchFlags
	opts  engine.Options // Parallelism and ContinueOnError
	// noDefault, when not "", says why the run keeps no state unless
	// -state is given (see batchFlags.apply).
	noDefault string
	live      bool // progress bars on a terminal
	// reports are the report files to write (see report.go); nil for none.
	reports *reportFlags
}

// execute runs a loaded workflow with its inputs and returns the exit
// code. The view's last line is the outputs, whatever happens.
func execute(ctx context.Context, v view, l *loaded, in engine.Inputs, s runSetup) int {
	opts := s.opts
	secrets := l.wf.Secrets(ctx, in)
	if s.flags.sandbox {
		stop, sbSecrets, err := useSandbox(s.flags.sb, &opts)
		if err != nil {
			v.Diagnostics(nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot start the sandbox", Detail: err.Error() + "."}})
			return endEarly(v, exitFailed)
		}
		defer stop()
		secrets = append(secrets, sbSecrets...)
	}
	v.addSecrets(secrets)
	tally := render.NewTally(l.wf.Steps(in))
	// The reports list every instance; without one, nothing is kept per
	// instance, so that a batch's memory stays flat.
	reporting := s.reports != nil && s.reports.any()
	steps := &stepRecorder{}
	opts.Observer = engine.ObserverFunc(func(e engine.Event) {
		tally.Observe(e)
		if reporting {
			steps.Observe(e)
		}
		v.Observe(e)
	})
	started := time.Now()
	if err := s.batch.apply(&opts, s.path, s.noDefault, s.live, secrets); err != nil {
		v.Diagnostics(nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid flags", Detail: err.Error() + "."}})
		return endEarly(v, exitInvalid)
	}
	callCtx, release := s.batch.callContext(ctx, &opts)
	defer release()
	res, diags := l.wf.Run(callCtx, in, opts)
	v.Diagnostics(l.cfg.Files(), diags)
	if res.Status == engine.StatusInterrupted {
		s.batch.reportInterrupted(v.stderr(), &opts, res, s.args, l.cfg)
	}
	if res.Status != engine.StatusInvalid {
		v.Summary(tally.Summary())
	}
	code := exitCode(res.Status)
	if reporting {
		if err := s.reports.write(runReport(s.path, started, steps.steps, res, l.cfg.Files(), diags), secrets); err != nil {
			fmt.Fprintf(v.stderr(), "okru-run run: %s\n", err)
			code = max(code, exitFailed)
		}
	}
	v.Outputs(res.Outputs, res.Status == engine.StatusOK)
	return code
}

// endEarly ends a command that stops before it ran anything: its view
// still ends as every run's does, with the (empty) outputs.
func endEarly(v view, code int) int {
	v.Outputs(nil, false)
	return code
}

// exitCode maps how a run ended to the process's exit code.
func exitCode(s engine.Status) int {
	switch s {
	case engine.StatusInvalid:
		return exitInvalid
	case engine.StatusInterrupted:
		return exitInterrupted
	case engine.StatusFailed:
		return exitFailed
	}
	return exitOK
}
