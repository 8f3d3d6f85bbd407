package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// This file holds how commands explain themselves: the flag sets they
// parse with (-h on stdout, one line and a did-you-mean for a mistake),
// okru-run help COMMAND, and the list of a command's flags that help,
// completion and the docs' test (docs/cli.md's flag tables) read.

func init() {
	register("help", "show the commands, or a command's flags: help [COMMAND]", cmdHelp)
}

// newCommandFlags makes the flag set a command parses its arguments with.
// -h, -help and --help print the usage line, about (the command's summary
// when empty) and every flag to stdout, and exit 0: help is what was asked
// for. A mistake prints one line naming the flag when that is safe (see
// unknownFlagMessage) and a pointer to -h, to stderr.
func newCommandFlags(env *cliEnv, name, usage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := &flagErrors{w: env.stderr, cmd: name, fs: fs}
	fs.SetOutput(out)
	fs.Usage = func() {
		if out.failed {
			fmt.Fprintf(env.stderr, "Run okru-run %s -h for its flags.\n", name)
			return
		}
		if about == "" {
			about = commands[name].summary
		}
		printHelp(env.stdout, fs, usage, about)
	}
	if env.flagSets != nil {
		env.flagSets(fs)
	}
	return fs
}

// printHelp writes a command's help: usage, about, its flags, and the
// flags of its other mode if it has one.
func printHelp(w io.Writer, fs *flag.FlagSet, usage, about string) {
	fmt.Fprintf(w, "Usage: okru-run %s\n\n", usage)
	if about != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSuffix(about, "\n"))
	}
	if !hasFlags(fs) {
		return
	}
	fmt.Fprintln(w, "Flags:")
	printDefaults(w, fs)
	mode, ok := otherModes[fs.Name()]
	if !ok {
		return
	}
	extra := flag.NewFlagSet(mode.name, flag.ContinueOnError)
	mode.flags().VisitAll(func(f *flag.Flag) {
		if fs.Lookup(f.Name) == nil {
			extra.Var(f.Value, f.Name, f.Usage)
		}
	})
	if hasFlags(extra) {
		fmt.Fprintf(w, "\nFlags of %s only (%s):\n", mode.name, mode.usage)
		printDefaults(w, extra)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printDefaults is fs.PrintDefaults to w: the flag package writes its
// defaults where it writes its errors.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// commandMode is a second set of flags a command takes, chosen by its
// arguments: run's flags for a .lua script. Its -h without the arguments
// shows them too, and completion offers them.
type commandMode struct {
	name  string // "a .lua script run"
	usage string // how to invoke it
	flags func() *flag.FlagSet
}

var otherModes = map[string]commandMode{
	"run": {
		name:  "a .lua script run",
		usage: "okru-run run [flags] SCRIPT.lua [args...]",
		flags: func() *flag.FlagSet {
			fs := flag.NewFlagSet("run", flag.ContinueOnError)
			var f scriptFlags
			f.register(fs)
			return fs
		},
	},
}

// commandFlags returns every flag command name accepts, sorted by name.
// It asks the command itself for its help, with the output discarded, and
// keeps the flag sets it made: the flags are those its parsing defines,
// so help, completion and docs/cli.md cannot fall out of step with them.
// Every command must therefore parse its flags before it does anything,
// as TestHelpOnStdout checks.
func commandFlags(ctx context.Context, name string) []*flag.Flag {
	c, ok := commands[name]
	if !ok {
		return nil
	}
	var sets []*flag.FlagSet
	env := &cliEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }, flagSets: func(fs *flag.FlagSet) { sets = append(sets, fs) }}
	c.run(ctx, env, []string{"-h"})
	if mode, ok := otherModes[name]; ok {
		sets = append(sets, mode.flags())
	}
	seen := map[string]*flag.Flag{}
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			if seen[f.Name] == nil {
				seen[f.Name] = f
			}
		})
	}
	flags := make([]*flag.Flag, 0, len(seen))
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		flags = append(flags, seen[n])
	}
	return flags
}

// cmdHelp is okru-run help [COMMAND]: the general help, or the command's
// own (as okru-run COMMAND -h).
func cmdHelp(ctx context.Context, env *cliEnv, args []string) int {
	switch {
	case len(args) == 0 || len(args) == 1 && (args[0] == "help" || isHelpFlag(args[0])):
		usage(env.stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintln(env.stderr, "okru-run help: one command expected; run okru-run help for the commands")
		return exitInvalid
	}
	c, ok := commands[args[0]]
	if !ok {
		return unknownCommand(env, args[0])
	}
	return c.run(ctx, env, []string{"-h"})
}

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}
