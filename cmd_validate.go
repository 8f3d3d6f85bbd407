package main

import (
	"context"
	"fmt"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
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
	fs := newFlagSet(env, "validate", "validate [flags] [FILE|DIR]")
	fs.StringVar(&color, "color", "auto", "colour: auto, always or never")
	fs.BoolVar(&jsonOut, "json", false, "write diagnostics as NDJSON to stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, color) {
		return exitInvalid
	}
	path, ok := workflowPath(env, "validate", pos)
	if !ok {
		return exitInvalid
	}
	useCol := useColor(env, color, env.stderr)
	l, ok := load(env, path, useCol)
	if !ok {
		if jsonOut {
			fmt.Fprintln(env.stdout, `{"type":"result","valid":false}`)
		}
		return exitInvalid
	}
	in := engine.Inputs{Variables: l.cfg.UnknownVariables(), Getenv: env.getenv}
	_, diags := l.wf.Plan(ctx, in)
	if ctx.Err() != nil {
		fmt.Fprintln(env.stderr, "okru-run validate: interrupted")
		return exitInterrupted
	}
	render.Diagnostics(env.stderr, l.cfg.Files(), diags, useCol, 0)
	if jsonOut {
		j := render.NewJSON(env.stdout)
		j.Diagnostics(diags)
		fmt.Fprintf(env.stdout, "{\"type\":\"result\",\"valid\":%t}\n", !diags.HasErrors())
	}
	if diags.HasErrors() {
		return exitInvalid
	}
	if !jsonOut {
		fmt.Fprintf(env.stderr, "%s is valid.\n", path)
	}
	return exitOK
}
