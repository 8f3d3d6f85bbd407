package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// flagErrors stands between a FlagSet and stderr, and rewrites the
// flag package's error lines so that they never show an argument's text:
// a mistyped flag is often a value, and a value may be a secret (ok.ru
// tokens start with "-s-", which the parser takes for a flag). A defined
// flag's name is shown; what the user typed is not, unless it is the name
// of an unknown flag close to a defined one (see unknownFlagMessage).
//
// It notes that an error was written, so that the flag set's usage
// function (see newCommandFlags) prints a pointer to -h rather than the
// help.
type flagErrors struct {
	w      io.Writer
	cmd    string        // the command, for messages
	fs     *flag.FlagSet // its flags, for a did-you-mean; nil for none
	failed bool
}

func (f *flagErrors) Write(p []byte) (int, error) {
	f.failed = true
	line := string(bytes.TrimSuffix(p, []byte("\n")))
	if name, ok := strings.CutPrefix(line, "flag provided but not defined: -"); ok && f.fs != nil {
		_, err := fmt.Fprintln(f.w, unknownFlagMessage(f.cmd, f.fs, name))
		return len(p), err
	}
	if msg, ok := safeFlagError(line); ok {
		if f.cmd != "" {
			msg = strings.Replace(msg, "okru-run:", "okru-run "+f.cmd+":", 1)
		}
		_, err := fmt.Fprintln(f.w, msg)
		return len(p), err
	}
	// "flag needs an argument: -var" names a defined flag; another line,
	// which this code does not know, might show a value.
	if !strings.HasPrefix(line, "flag needs an argument: -") {
		line = "an argument is not valid (not shown: it may be a value)"
	}
	_, err := fmt.Fprintf(f.w, "okru-run %s: %s\n", f.cmd, line)
	return len(p), err
}

// safeFlagError returns the message to print for an error line of the
// flag package; false for a line that is not one.
func safeFlagError(line string) (string, bool) {
	switch {
	case strings.HasPrefix(line, "flag provided but not defined: "):
		return "okru-run: an argument is not a flag this command knows (not shown: it may be a value)", true
	case strings.HasPrefix(line, "bad flag syntax: "):
		return "okru-run: an argument is not a well-formed flag (not shown: it may be a value)", true
	case strings.HasPrefix(line, "invalid value "), strings.HasPrefix(line, "invalid boolean value "):
		rest := strings.TrimPrefix(strings.TrimPrefix(line, "invalid boolean value "), "invalid value ")
		name := "a flag"
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(q):], " for flag "), " for ")
			if n, _, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(n, "-") && !strings.ContainsAny(n, " \"") {
				name = n
			}
		}
		return fmt.Sprintf("okru-run: the value given to %s is not valid (not shown)", name), true
	}
	return "", false
}
