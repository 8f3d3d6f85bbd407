package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/okru"
)

func init() {
	register("run", "run a workflow or a .lua script (okru-run FILE|DIR is the same)", cmdRun)
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	if isScriptRun(args) {
		return cmdScript(ctx, env, args) // see cmd_script.go
	}
	var f workflowFlags
	var parallelism int
	var continueOnError bool
	var batch batchFlags // see cmd_run_batch.go
	fs := newFlagSet(env, "run", "run [flags] [FILE|DIR]")
	f.register(fs)
	fs.IntVar(&parallelism, "parallelism", engine.DefaultParallelism, "calls in flight at once")
	fs.BoolVar(&continueOnError, "continue-on-error", false, "keep running steps that do not depend on a failed one, and report every failure")
	batch.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, f.color) || !batch.check(env) {
		return exitInvalid
	}
	if parallelism < 1 {
		fmt.Fprintf(env.stderr, "okru-run run: -parallelism must be at least 1, got %d\n", parallelism)
		return exitInvalid
	}
	path, ok := workflowPath(env, "run", pos)
	if !ok {
		return exitInvalid
	}
	color := useColor(env, f.color, env.stderr)
	l, ok := load(env, path, color)
	if !ok {
		return exitInvalid
	}
	in, ok := l.inputs(env, &f)
	if !ok {
		return exitInvalid
	}

	opts := engine.Options{Parallelism: parallelism, ContinueOnError: continueOnError}
	secrets := l.wf.Secrets(in)
	var sbSecrets []string
	if f.sandbox {
		stop, ok := useSandbox(env, f.sb, &opts, &sbSecrets)
		if !ok {
			return exitFailed
		}
		defer stop()
		secrets = append(secrets, sbSecrets...)
	}
	stdout := newRedactor(env.stdout, secrets)
	stderr := newRedactor(env.stderr, secrets)
	defer stdout.Flush()
	defer stderr.Flush()

	var jsonOut *render.JSON
	if f.json {
		jsonOut = render.NewJSON(stdout)
		opts.Observer = jsonOut
	} else {
		opts.Observer = render.NewText(stderr, color, isTerminal(env.stderr))
	}
	noDefault := ""
	if f.sandbox {
		noDefault = "-sandbox runs keep no state to resume unless -state FILE is given"
	}
	if !batch.apply(env, &opts, path, noDefault, !f.json && isTerminal(env.stderr), sbSecrets) {
		return exitInvalid
	}
	callCtx, release := batch.callContext(ctx, &opts)
	defer release()
	res, diags := l.wf.Run(callCtx, in, opts)
	render.Diagnostics(stderr, l.cfg.Files(), diags, color, 0)
	if jsonOut != nil {
		jsonOut.Diagnostics(diags)
	} else {
		render.Outputs(stdout, res.Outputs)
	}
	switch res.Status {
	case engine.StatusInvalid:
		return exitInvalid
	case engine.StatusInterrupted:
		batch.reportInterrupted(stderr, &opts, res, args, l.cfg)
		return exitInterrupted
	case engine.StatusFailed:
		return exitFailed
	}
	return exitOK
}

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
