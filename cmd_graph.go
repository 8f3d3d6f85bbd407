package main

import (
	"context"
	"fmt"

	"github.com/okru-run/okru-run/engine"
)

func init() {
	register("graph", "print the workflow's dependency graph in Graphviz DOT", cmdGraph)
}

func cmdGraph(_ context.Context, env *cliEnv, args []string) int {
	var color string
	var luaPath listFlag
	fs := newFlagSet(env, "graph", "graph [FILE|DIR] | dot -Tsvg > graph.svg")
	registerLuaPath(fs, &luaPath)
	fs.StringVar(&color, "color", "auto", "colour of diagnostics: auto, always or never")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, "graph", color) || !checkLuaPath(env, "graph", luaPath) {
		return exitInvalid
	}
	path, ok := workflowPath(env, "graph", pos)
	if !ok {
		return exitInvalid
	}
	v := newView(env, viewOptions{color: useColor(env, color, env.stderr)})
	defer v.close()
	l, ok := load(v, path, luaPath)
	if !ok {
		return exitInvalid
	}
	// Without -var flags, a module's for_each is drawn from the
	// variables' defaults.
	diags, err := l.wf.WriteDOT(env.stdout, engine.Inputs{Variables: l.cfg.DefaultVariables()})
	v.Diagnostics(l.cfg.Files(), diags)
	if diags.HasErrors() {
		return exitInvalid
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run graph: %v\n", err)
		return exitFailed
	}
	return exitOK
}
