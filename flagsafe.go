package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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
	if name, ok := invalidValueFlag(line); ok && f.fs != nil {
		if form := flagForm(f.fs, name); form != "" {
			_, err := fmt.Fprintf(f.w, "okru-run %s: %s: want %s (the value given is not shown)\n", f.cmd, name, form)
			return len(p), err
		}
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
		name, ok := invalidValueFlag(line)
		if !ok {
			name = "a flag"
		}
		return fmt.Sprintf("okru-run: the value given to %s is not valid (not shown)", name), true
	}
	return "", false
}

// invalidValueFlag returns the flag ("-timeout") of the flag package's
// line about an invalid value, found after the quoted value.
func invalidValueFlag(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "invalid value ")
	if !ok {
		if rest, ok = strings.CutPrefix(line, "invalid boolean value "); !ok {
			return "", false
		}
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(q):], " for flag "), " for ")
	if n, _, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(n, "-") && !strings.ContainsAny(n, " \"") {
		return n, true
	}
	return "", false
}

// flagForm describes the values a flag of the flag package's own kinds
// takes, for a message that does not show the value given; "" for a
// flag of another kind.
func flagForm(fs *flag.FlagSet, name string) string {
	fl := fs.Lookup(strings.TrimPrefix(name, "-"))
	if fl == nil {
		return ""
	}
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "a duration, such as 30s or 1m30s"
	case int, int64, uint, uint64:
		return "a whole number"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	}
	return ""
}
