package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// This file holds the "did you mean" of the command line: for a mistyped
// command and for a mistyped flag.

// commandAliases are words users bring from other tools, and the command
// that does what they meant there.
var commandAliases = map[string]string{
	"apply":    "run", // Terraform
	"exec":     "run",
	"check":    "validate",
	"lint":     "validate",
	"format":   "fmt",
	"serve":    "sandbox",
	"auth":     "login",
	"complete": "completion",
}

// suggest returns the candidate a mistyped word most likely meant: one it
// is a prefix of (when that is not ambiguous), else the closest within a few edits; ""
// when nothing is close enough to be a typo.
func suggest(typed string, candidates []string) string {
	typed = strings.ToLower(typed)
	if len(typed) >= 3 {
		var prefixed []string
		for _, c := range candidates {
			if strings.HasPrefix(c, typed) {
				prefixed = append(prefixed, c)
			}
		}
		// One, or one that begins all the others ("sand": sandbox, not
		// sandbox-seed).
		if len(prefixed) > 0 {
			shortest := slices.MinFunc(prefixed, func(a, b string) int { return len(a) - len(b) })
			if !slices.ContainsFunc(prefixed, func(c string) bool { return !strings.HasPrefix(c, shortest) }) {
				return shortest
			}
		}
	}
	best, bestDist := "", max(1, (len(typed)+1)/3)+1
	for _, c := range candidates {
		d := levenshtein.Distance(typed, strings.ToLower(c), nil)
		if swapped(typed, strings.ToLower(c)) {
			d = 1 // "jsno" is one slip of the fingers from "json", not two
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// swapped reports whether a is b with two neighbouring letters swapped.
func swapped(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// commandNames returns the registered commands, sorted.
func commandNames() []string {
	return slices.Sorted(maps.Keys(commands))
}

// commandWordRE is what a mistyped command looks like. Anything else
// given where a command goes is not repeated: it may be a value typed in
// the wrong place, such as a token.
var commandWordRE = regexp.MustCompile(`^[A-Za-z][A-Za-z-]{0,23}$`)

// unknownCommand says that word is not a command, with the one meant if
// it looks like a typo or a word of another tool.
func unknownCommand(env *cliEnv, word string) int {
	msg := "okru-run: an argument is not a command, nor a file (not shown: it may be a value)"
	if commandWordRE.MatchString(word) {
		msg = fmt.Sprintf("okru-run: %s is not a command (nor a file)", word)
	}
	guess, ok := commandAliases[strings.ToLower(word)]
	if !ok {
		guess = suggest(word, commandNames())
	}
	if guess != "" {
		msg += fmt.Sprintf("; did you mean %s?", guess)
	}
	fmt.Fprintln(env.stderr, msg)
	fmt.Fprintln(env.stderr, "Run okru-run help for the commands.")
	return exitInvalid
}

// flagNameRE is what a flag's name looks like. What the flag package calls
// the name of an unknown flag is only shown when it looks like one (and a
// defined flag is close to it): otherwise it is more likely a value.
var flagNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,30}$`)

// unknownFlagMessage explains an unknown flag -name given to command cmd
// whose flags are fs. The name is shown only when it is close to a flag
// the command has, so that a misplaced value (a token such as "-s-...")
// is never echoed.
func unknownFlagMessage(cmd string, fs *flag.FlagSet, name string) string {
	if flagNameRE.MatchString(name) {
		if other, ok := otherModeFlag(cmd, fs, name); ok {
			return fmt.Sprintf("okru-run %s: -%s is a flag of %s", cmd, name, other)
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if guess := suggest(name, names); guess != "" {
			return fmt.Sprintf("okru-run %s: -%s is not a flag of %s; did you mean -%s?", cmd, name, cmd, guess)
		}
		// The exact name of another command's flag is no value to hide.
		if others := commandsWithFlag(cmd, name); len(others) > 0 {
			return fmt.Sprintf("okru-run %s: -%s is not a flag of %s (it is a flag of %s)", cmd, name, cmd, strings.Join(others, ", "))
		}
	}
	msg := fmt.Sprintf("okru-run %s: an argument is not a flag this command knows (not shown: it may be a value)", cmd)
	if cmd == "run" {
		msg += "; a script's arguments go after the script's name"
	}
	return msg
}

// otherModeFlag reports whether name is a flag the command takes in its
// other mode (run's flags for .lua scripts, given to a workflow run), and
// names that mode.
func otherModeFlag(cmd string, fs *flag.FlagSet, name string) (string, bool) {
	mode, ok := otherModes[cmd]
	if !ok || fs.Lookup(name) != nil {
		return "", false
	}
	if mode.flags().Lookup(name) == nil {
		return "", false
	}
	return mode.name, true
}

// commandsWithFlag lists the commands other than cmd that take the flag
// -name, in order.
func commandsWithFlag(cmd, name string) []string {
	var out []string
	for _, other := range slices.Sorted(maps.Keys(commands)) {
		if other == cmd || other == "help" {
			continue
		}
		for _, f := range commandFlags(context.Background(), other) {
			if f.Name == name {
				out = append(out, other)
				break
			}
		}
	}
	return out
}
