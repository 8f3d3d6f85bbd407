package main

import (
	"context"
	"fmt"

	"github.com/okru-run/okru-run/engine"
)

func init() {
	register("validate", "check a workflow without its variables and without calling", cmdValidate)
}

// cmdValidate checks structure, references, methods, sessions and cycles,
// then evaluates everything with every variable unknown, so type errors
// that do not depend on inputs are found too.
func cmdValidate(ctx context.Context, env *cliEnv, args []string) int {
	var color string
	var jsonOut bool
	var luaPath listFlag
	fs := newFlagSet(env, "validate", "validate [flags] [FILE|DIR]")
	fs.StringVar(&color, "color", "auto", "colour: auto, always or never")
	fs.BoolVar(&jsonOut, "json", false, "write diagnostics as NDJSON to stdout")
	registerLuaPath(fs, &luaPath)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, "validate", color) || !checkLuaPath(env, "validate", luaPath) {
		return exitInvalid
	}
	path, ok := workflowPath(env, "validate", pos)
	if !ok {
		return exitInvalid
	}
	v := newView(env, viewOptions{json: jsonOut, color: useColor(env, color, env.stderr)})
	defer v.close()
	l, ok := load(v, path, luaPath)
	if !ok {
		v.Result(path, false)
		return exitInvalid
	}
	in := engine.Inputs{Variables: l.cfg.UnknownVariables(), Getenv: env.getenv}
	_, diags := l.wf.Plan(ctx, in)
	if ctx.Err() != nil {
		fmt.Fprintln(v.stderr(), "okru-run validate: interrupted")
		return exitInterrupted
	}
	v.Diagnostics(l.cfg.Files(), diags)
	v.Result(path, !diags.HasErrors())
	if diags.HasErrors() {
		return exitInvalid
	}
	return exitOK
}
