package main

import (
	"bytes"
	"io"
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
		if _, err := io.WriteString(r.w, okru.Redact(line, r.secrets...)); err != nil {
			return len(p), err
		}
	}
}

// Flush writes what is left without a line end.
func (r *redactor) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buf.Len() > 0 {
		_, _ = io.WriteString(r.w, okru.Redact(r.buf.String(), r.secrets...))
		r.buf.Reset()
	}
}
