package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
)

// okru-run script.lua [args...] and okru-run run [flags] script.lua
// [args...]: the .lua extension selects a script run in the run command.
// The script runs as the only step of a workflow built around it (see
// lang.LoadScriptRun), so its calls get the events, retries, pacing and
// redaction of a workflow's calls.

// scriptFlags are the flags of a script run: those of run (the batch
// flags among them, for a resumable script), plus -timeout, -config and
// -session.
type scriptFlags struct {
	workflowFlags
	batch   batchFlags
	timeout time.Duration
	config  string
	session string
}

func (f *scriptFlags) register(fs *flag.FlagSet) {
	f.workflowFlags.register(fs)
	f.batch.register(fs)
	fs.DurationVar(&f.timeout, "timeout", 0, "stop the script after this long, e.g. 30s (0: no limit)")
	fs.StringVar(&f.config, "config", "", "use the session, variable and locals blocks of this .hcl `file` or folder")
	fs.StringVar(&f.session, "session", "", "the session okru.call uses when the script names none (default: the only one)")
	// Accepted so that the flags of a workflow run work here too: a script
	// makes one call at a time and stops at its first uncaught error.
	fs.Int("parallelism", engine.DefaultParallelism, "ignored: a script makes one call at a time")
	fs.Bool("continue-on-error", false, "ignored: a script handles its errors with okru.pcall")
}

// isScriptRun reports whether the arguments of run name a .lua script: the
// first argument that is not a flag ends in .lua.
func isScriptRun(args []string) bool {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f scriptFlags
	f.register(fs)
	if err := fs.Parse(args); err == nil {
		return fs.NArg() > 0 && isScriptPath(fs.Arg(0))
	}
	// The flags are wrong (cmdScript or cmdRun will say so): a .lua
	// argument still says what the user meant.
	return slices.ContainsFunc(args, func(a string) bool { return !strings.HasPrefix(a, "-") && isScriptPath(a) })
}

func isScriptPath(p string) bool { return strings.HasSuffix(p, ".lua") }

// parseScriptArgs parses the flags before the script's name; everything
// after the name goes to the script as it is, never read as a flag (an
// argument such as an ok.ru token, which starts with "-s-", would be
// taken for one, and a mistyped flag's message would show it). A first
// "--" among the script's arguments is dropped, so that the "--" that
// ended okru-run's flags before still does.
func parseScriptArgs(fs *flag.FlagSet, args []string) (script string, scriptArgs []string, err error) {
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if fs.NArg() == 0 {
		return "", nil, nil
	}
	rest := slices.Clone(fs.Args()[1:])
	if i := slices.Index(rest, "--"); i >= 0 {
		rest = slices.Delete(rest, i, i+1)
	}
	return fs.Arg(0), rest, nil
}

func cmdScript(ctx context.Context, env *cliEnv, args []string) int {
	var f scriptFlags
	fs := newFlagSet(env, "run", "[run] [flags] SCRIPT.lua [args...] [-- args...]")
	f.register(fs)
	path, scriptArgs, err := parseScriptArgs(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !f.workflowFlags.check(env, "run") || !f.batch.check(env) {
		return exitInvalid
	}
	if f.config != "" && !checkPathFlag(env, "run", "config", f.config, "file or folder") {
		return exitInvalid
	}
	if f.session != "" && !hclsyntax.ValidIdentifier(f.session) {
		fmt.Fprintln(env.stderr, "okru-run run: -session: want the name of a session block (a letter, then letters, digits, _ or -)")
		return exitInvalid
	}
	if f.batch.shard.Sharded() {
		fmt.Fprintln(env.stderr, "okru-run run: -shard splits the for_each steps of a workflow between jobs; a script run is one script instance, which cannot be split (run it in one job)")
		return exitInvalid
	}
	if f.timeout < 0 {
		fmt.Fprintf(env.stderr, "okru-run run: -timeout must not be negative, got %s\n", f.timeout)
		return exitInvalid
	}
	if !isScriptPath(path) {
		fmt.Fprintln(env.stderr, "okru-run run: the first argument after the flags must be the .lua script")
		return exitInvalid
	}
	color := useColor(env, f.color, env.stderr)
	live := !f.json && isTerminal(env.stderr)
	v := newView(env, viewOptions{json: f.json, color: color, live: live, scriptResult: true})
	defer v.close()
	cfg, diags := lang.LoadScriptRun(lang.ScriptRun{
		Path: path, Args: scriptArgs, Timeout: f.timeout, Config: f.config, Session: f.session,
		// Without --config the session comes from the environment; with
		// none there, the script runs without API access.
		EnvSession: f.config == "" && (f.sandbox || f.credentials != "" || env.getenv("OKRU_APP_KEY") != ""),
	})
	cfg.LuaPath = f.luaPath
	l, ok := compile(v, cfg, diags)
	if !ok {
		return endEarly(v, exitInvalid)
	}
	in, ok := l.inputs(ctx, env, v, &f.workflowFlags)
	if !ok {
		return endEarly(v, inputsFailed(ctx))
	}
	return execute(ctx, v, l, in, runSetup{path: path, args: args, flags: &f.workflowFlags, batch: &f.batch,
		opts: engine.Options{Parallelism: 1}, noDefault: "a script run keeps no state unless -state FILE is given", live: live})
}

// writeScriptResult prints the script's return value as one JSON document,
// indented for people and still one value for jq.
func writeScriptResult(w io.Writer, outs []engine.OutputValue) {
	for _, o := range outs {
		if o.Name != "result" {
			continue
		}
		var b bytes.Buffer
		if err := json.Indent(&b, lang.DisplayJSON(o.Value), "", "  "); err != nil {
			b.Reset()
			b.Write(lang.DisplayJSON(o.Value))
		}
		b.WriteByte('\n')
		_, _ = w.Write(b.Bytes())
	}
}
