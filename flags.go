package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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

// The checks of flag values below say what is wrong without repeating
// what was typed: a value given to the wrong flag, or an argument taken
// for a flag's value, is often a secret (ok.ru tokens start with "-s-"),
// and the message would print it into a terminal or a CI log. A path is
// named only when something is there: then it is a file's name.

func checkColorFlag(env *cliEnv, cmd, mode string) bool {
	switch mode {
	case "auto", "always", "never":
		return true
	}
	fmt.Fprintf(env.stderr, "okru-run %s: -color: want auto, always or never\n", cmd)
	return false
}

// check checks the values of the workflow flags that parsing accepts as
// any text, for command cmd.
func (f *workflowFlags) check(env *cliEnv, cmd string) bool {
	if !checkColorFlag(env, cmd, f.color) {
		return false
	}
	for _, kv := range f.vars {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			fmt.Fprintf(env.stderr, "okru-run %s: -var: want NAME=VALUE, as in -var group_id=123\n", cmd)
			return false
		}
	}
	for _, p := range f.varFiles {
		if !checkPathFlag(env, cmd, "var-file", p, "file") {
			return false
		}
	}
	if f.credentials != "" && !checkPathFlag(env, cmd, "credentials", f.credentials, "file") {
		return false
	}
	return checkLuaPath(env, cmd, f.luaPath)
}

// checkLuaPath checks that each -lua-path is a folder.
func checkLuaPath(env *cliEnv, cmd string, dirs []string) bool {
	for _, d := range dirs {
		if !checkPathFlag(env, cmd, "lua-path", d, "folder") {
			return false
		}
	}
	return true
}

// checkPathFlag reports whether something is at the path given to -name;
// when nothing is, it says so without the path (see above). What is
// there is checked by the code that reads it, whose errors may name it.
func checkPathFlag(env *cliEnv, cmd, name, path, what string) bool {
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return true
	}
	fmt.Fprintf(env.stderr, "okru-run %s: -%s: no %s at the path given (not shown: it may be a value typed in the wrong place)\n", cmd, name, what)
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
	fmt.Fprintf(env.stderr, "okru-run %s: one workflow file or folder expected, got %d arguments (not shown: one may be a value typed in the wrong place); flags go before or after it\n", cmd, len(pos))
	return "", false
}
