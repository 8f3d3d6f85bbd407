package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
)

// The flags the workflow commands share, and how they are parsed: flags
// may come before or after the workflow, colour follows the terminal.

// workflowFlags are the flags run and plan share.
type workflowFlags struct {
	vars     listFlag
	varFiles listFlag
	luaPath  listFlag // -lua-path: more folders of Lua libraries
	json     bool
	sandbox  bool
	sb       sandboxFlags // -sandbox-seed, -sandbox-users, -sandbox-latency
	color    string
	// credentials is a file written by okru-run login (see cmd_credentials.go).
	credentials string
}

func (f *workflowFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&f.varFiles, "var-file", "read variables from a `file` of name = value lines (repeatable)")
	registerLuaPath(fs, &f.luaPath)
	fs.BoolVar(&f.json, "json", false, "write machine-readable NDJSON to stdout")
	fs.BoolVar(&f.sandbox, "sandbox", false, "run against an in-process sandbox with its demo credentials, offline")
	f.sb.register(fs, "sandbox-", "with -sandbox: ")
	fs.StringVar(&f.color, "color", "auto", "colour: auto, always or never (NO_COLOR also turns it off)")
	fs.StringVar(&f.credentials, "credentials", "", "read OKRU_APP_ID, OKRU_APP_KEY, OKRU_ACCESS_TOKEN, OKRU_SESSION_SECRET_KEY and OKRU_API_URL for env() from a `file` written by okru-run login (mode 0600)")
}

// registerLuaPath adds -lua-path, which every command that loads a
// workflow takes, so that they all see the same lua:: functions.
func registerLuaPath(fs *flag.FlagSet, l *listFlag) {
	fs.Var(l, "lua-path", "look for Lua libraries in this `folder` too, after the lua folder beside the workflow (repeatable)")
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// parseFlags parses flags that may come before or after the positional
// arguments, as in okru-run run wf.hcl -sandbox.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet makes a command's flag set; see newCommandFlags in help.go.
func newFlagSet(env *cliEnv, name, usage string) *flag.FlagSet {
	return newCommandFlags(env, name, usage, "")
}

// flagExit maps a flag parsing error to an exit code: -h is not an error.
func flagExit(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitInvalid
}

// useColor decides on colour for w: --color=always|never, else only on a
// terminal and when NO_COLOR is unset.
func useColor(env *cliEnv, mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if env.getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func checkColorFlag(env *cliEnv, mode string) bool {
	switch mode {
	case "auto", "always", "never":
		return true
	}
	fmt.Fprintf(env.stderr, "okru-run: -color is %q; use auto, always or never\n", mode)
	return false
}

// workflowPath returns the one FILE|DIR argument, "." when there is none.
func workflowPath(env *cliEnv, cmd string, pos []string) (string, bool) {
	switch len(pos) {
	case 0:
		return ".", true
	case 1:
		return pos[0], true
	}
	fmt.Fprintf(env.stderr, "okru-run %s: one workflow file or folder expected, got %d: %s\n", cmd, len(pos), strings.Join(pos, " "))
	return "", false
}
