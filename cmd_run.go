package main

import (
	"context"
	"fmt"

	"github.com/okru-run/okru-run/engine"
)

func init() {
	register("run", "run a workflow or a .lua script (okru-run FILE|DIR is the same)", cmdRun)
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	if isScriptRun(args) {
		return cmdScript(ctx, env, args) // see cmd_script.go
	}
	var f workflowFlags
	var parallelism int
	var continueOnError, strictChecks bool
	var batch batchFlags // see cmd_run_batch.go
	var reports reportFlags
	fs := newFlagSet(env, "run", "run [flags] [FILE|DIR]")
	f.register(fs)
	fs.IntVar(&parallelism, "parallelism", engine.DefaultParallelism, "calls in flight at once")
	fs.BoolVar(&continueOnError, "continue-on-error", false, "keep running steps that do not depend on a failed one, and report every failure")
	fs.BoolVar(&strictChecks, "strict-checks", false, "make a failed check block an error (exit 1) rather than a warning")
	batch.register(fs)
	reports.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !f.check(env, "run") || !batch.check(env) || !reports.check(env, "run") {
		return exitInvalid
	}
	if parallelism < 1 {
		fmt.Fprintf(env.stderr, "okru-run run: -parallelism must be at least 1, got %d\n", parallelism)
		return exitInvalid
	}
	path, ok := workflowPath(env, "run", pos)
	if !ok {
		return exitInvalid
	}
	color := useColor(env, f.color, env.stderr)
	live := !f.json && isTerminal(env.stderr)
	v := newView(env, viewOptions{json: f.json, color: color, live: live})
	defer v.close()
	l, ok := load(v, path, f.luaPath)
	if !ok {
		return endEarly(v, exitInvalid)
	}
	in, ok := l.inputs(ctx, env, v, &f)
	if !ok {
		return endEarly(v, inputsFailed(ctx))
	}
	noDefault := ""
	if f.sandbox {
		noDefault = "-sandbox runs keep no state to resume unless -state FILE is given"
	}
	return execute(ctx, v, l, in, runSetup{path: path, args: args, flags: &f, batch: &batch,
		opts: engine.Options{Parallelism: parallelism, ContinueOnError: continueOnError, StrictChecks: strictChecks}, noDefault: noDefault, live: live, reports: &reports})
}
