package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// flagErrors stands between a FlagSet and stderr, and rewrites the
// flag package's error lines so that they never show an argument's text:
// a mistyped flag is often a value, and a value may be a secret (ok.ru
// tokens start with "-s-", which the parser takes for a flag). A defined
// flag's name is shown; what the user typed is not.
type flagErrors struct{ w io.Writer }

func (f flagErrors) Write(p []byte) (int, error) {
	line := string(bytes.TrimSuffix(p, []byte("\n")))
	if msg, ok := safeFlagError(line); ok {
		_, err := fmt.Fprintln(f.w, msg)
		return len(p), err
	}
	return f.w.Write(p)
}

// safeFlagError returns the message to print for an error line of the
// flag package; false for a line that is not one.
func safeFlagError(line string) (string, bool) {
	switch {
	case strings.HasPrefix(line, "flag provided but not defined: "):
		return "okru-run: an argument is not a flag this command knows (not shown: it may be a value); " +
			"the flags are listed below. A script's arguments go after the script's name", true
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
		return fmt.Sprintf("okru-run: the value given to %s is not valid (not shown); see the flags below", name), true
	}
	return "", false
}
