package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/okru-run/okru-run/okru"
)

// redactor removes secrets from everything written through it. It is the
// last line of defence: values are already hidden by the sensitive marks.
// It writes whole lines (and progress lines ended by \r), so a secret is
// never split between two writes.
type redactor struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
	buf     bytes.Buffer
	// json: the lines are JSON, whose strings are redacted decoded (see
	// redactJSONStrings).
	json bool
}

func newRedactor(w io.Writer, secrets []string) *redactor {
	var keep []string
	for _, s := range secrets {
		if s != "" {
			keep = append(keep, s)
		}
	}
	return &redactor{w: w, secrets: keep}
}

// newJSONRedactor is newRedactor for NDJSON lines.
func newJSONRedactor(w io.Writer) *redactor {
	r := newRedactor(w, nil)
	r.json = true
	return r
}

// add hides more secrets from now on.
func (r *redactor) add(secrets []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
}

func (r *redactor) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	for {
		b := r.buf.Bytes()
		i := bytes.IndexAny(b, "\n\r")
		if i < 0 {
			return len(p), nil
		}
		line := string(b[:i+1])
		r.buf.Next(i + 1)
		if _, err := io.WriteString(r.w, r.redact(line)); err != nil {
			return len(p), err
		}
	}
}

// Flush writes what is left without a line end.
func (r *redactor) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buf.Len() > 0 {
		_, _ = io.WriteString(r.w, r.redact(r.buf.String()))
		r.buf.Reset()
	}
}

func (r *redactor) redact(line string) string {
	if r.json {
		line = redactJSONStrings(line, r.secrets, jsonInJSONDepth)
	}
	return okru.Redact(line, r.secrets...)
}

// jsonInJSONDepth is how many levels of JSON quoted as a string inside a
// JSON string are decoded: a server's answer in an error, in a line.
const jsonInJSONDepth = 4

// redactJSONStrings redacts every string literal of the JSON text decoded,
// and writes it back encoded when that hid something. okru.Redact finds a
// secret escaped once; a message that holds it escaped once already (a
// server quoting what it was sent, a script's json.encode) has it escaped
// twice on a JSON line, where a consumer decoding the line would read it
// escaped once. A string that is JSON itself is redacted so in turn, depth
// levels down.
//
// A literal without a backslash decodes to itself: the redaction of the
// whole line covers it, so only escaped literals are decoded.
func redactJSONStrings(text string, secrets []string, depth int) string {
	if !strings.Contains(text, `\`) {
		return text
	}
	var b strings.Builder
	done := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '"' {
			continue
		}
		end, escaped := literalEnd(text, i)
		if end < 0 {
			break
		}
		if escaped {
			if clean, ok := redactLiteral(text[i:end], secrets, depth); ok {
				b.WriteString(text[done:i])
				b.WriteString(clean)
				done = end
			}
		}
		i = end - 1
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}

// literalEnd returns the end of the string literal that starts at text[i]
// (just after its closing quote), -1 when it is not closed, and whether it
// holds an escape.
func literalEnd(text string, i int) (end int, escaped bool) {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// redactLiteral returns the literal lit redacted, and false when it had
// nothing to hide or is not a JSON string.
func redactLiteral(lit string, secrets []string, depth int) (string, bool) {
	var s string
	if json.Unmarshal([]byte(lit), &s) != nil {
		return "", false
	}
	clean := s
	if depth > 0 && isJSONText(clean) {
		clean = redactJSONStrings(clean, secrets, depth-1)
	}
	clean = okru.Redact(clean, secrets...)
	if clean == s {
		return "", false
	}
	enc, err := json.Marshal(clean)
	if err != nil {
		return "", false
	}
	return string(enc), true
}

// isJSONText reports whether s is a JSON object, array or string.
func isJSONText(s string) bool {
	t := strings.TrimSpace(s)
	return t != "" && strings.ContainsRune(`{["`, rune(t[0])) && json.Valid([]byte(t))
}
