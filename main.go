// Command okru-run runs workflows against the ok.ru API: HCL files declaring
// sessions, variables and method calls, or Lua scripts. It also serves the
// sandbox, a local emulator of ok.ru for offline runs and tests.
//
// main.go parses the command line and dispatches; each command lives in a
// cmd_*.go file of its own and holds no business logic: the work is done by
// the engine, lang and okru packages. What the commands share is in files
// named for it: flags.go (flags and colour), load.go (loading and
// variables), sandbox.go (the in-process sandbox), view.go (text or -json
// output, chosen once), pipeline.go (the run of run and of script runs)
// and redactor.go (no secret reaches stdout or stderr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, stable for scripts and CI.
const (
	exitOK          = 0   // everything succeeded
	exitFailed      = 1   // a call or a script failed
	exitInvalid     = 2   // the configuration or the command line is invalid; nothing was called
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand of okru-run.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv is what a command may touch of the outside world, so that tests can
// run commands in process.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// flagSets, when set, is given every flag set the command makes, so
	// that help and completion learn its flags from it (see help.go).
	flagSets func(*flag.FlagSet)
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, env *cliEnv, args []string) int) {
	commands[name] = command{summary: summary, run: run}
}

func init() {
	register("version", "print the version", func(_ context.Context, env *cliEnv, args []string) int {
		fs := newFlagSet(env, "version", "version [-json]")
		asJSON := fs.Bool("json", false, `print {"version": "..."}`)
		if _, err := parseFlags(fs, args); err != nil {
			return flagExit(err)
		}
		if *asJSON {
			b, _ := json.Marshal(map[string]string{"version": version})
			fmt.Fprintf(env.stdout, "%s\n", b)
			return exitOK
		}
		fmt.Fprintf(env.stdout, "okru-run %s\n", version)
		return exitOK
	})
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go exitOnSecondSignal() // see signals.go
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches args to a command and returns the process exit code.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(env.stdout)
		return exitOK
	case "-version", "--version":
		args[0] = "version"
	}
	if c, ok := commands[args[0]]; ok {
		return c.run(ctx, env, args[1:])
	}
	if c, ok := commands["run"]; ok && !mistypedCommand(args[0]) {
		// okru-run FILE is okru-run run FILE.
		return c.run(ctx, env, args)
	}
	return unknownCommand(env, args[0]) // see suggest.go
}

// mistypedCommand reports whether arg, which is not a command, is not meant
// as a file either: a bare word (no flag, no extension, no folder) that
// names nothing. "frobnicate" is a mistyped command; "nosuch.hcl" is a
// missing file, which run explains better.
func mistypedCommand(arg string) bool {
	if strings.HasPrefix(arg, "-") || filepath.Ext(arg) != "" || strings.ContainsRune(arg, filepath.Separator) {
		return false
	}
	_, err := os.Stat(arg)
	return errors.Is(err, fs.ErrNotExist)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: okru-run [command] [flags] [FILE|DIR]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun okru-run help COMMAND (or okru-run COMMAND -h) for a command's flags.")
}
