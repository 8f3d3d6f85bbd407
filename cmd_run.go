package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/mattn/go-isatty"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

func init() {
	register("run", "run a workflow or a .lua script (okru-run FILE|DIR is the same)", cmdRun)
}

// workflowFlags are the flags run and plan share.
type workflowFlags struct {
	vars     listFlag
	varFiles listFlag
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
	fs.BoolVar(&f.json, "json", false, "write machine-readable NDJSON to stdout")
	fs.BoolVar(&f.sandbox, "sandbox", false, "run against an in-process sandbox with its demo credentials, offline")
	f.sb.register(fs, "sandbox-", "with -sandbox: ")
	fs.StringVar(&f.color, "color", "auto", "colour: auto, always or never (NO_COLOR also turns it off)")
	fs.StringVar(&f.credentials, "credentials", "", "read OKRU_APP_ID, OKRU_APP_KEY, OKRU_ACCESS_TOKEN, OKRU_SESSION_SECRET_KEY and OKRU_API_URL for env() from a `file` written by okru-run login (mode 0600)")
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

func checkColorFlag(env *cliEnv, mode string) bool {
	switch mode {
	case "auto", "always", "never":
		return true
	}
	fmt.Fprintf(env.stderr, "okru-run: -color is %q; use auto, always or never\n", mode)
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
	fmt.Fprintf(env.stderr, "okru-run %s: one workflow file or folder expected, got %d: %s\n", cmd, len(pos), strings.Join(pos, " "))
	return "", false
}

// loaded is a workflow ready to plan or run.
type loaded struct {
	cfg   *lang.Config
	wf    *engine.Workflow
	color bool
}

// load loads and compiles a workflow, printing diagnostics (warnings too).
func load(env *cliEnv, path string, color bool) (*loaded, bool) {
	cfg, diags := loadConfig(path) // a workflow, or a .lua script
	if !diags.HasErrors() {
		var d hcl.Diagnostics
		wf, d := engine.Compile(cfg)
		diags = append(diags, d...)
		render.Diagnostics(env.stderr, cfg.Files(), diags, color, 0)
		return &loaded{cfg: cfg, wf: wf, color: color}, !diags.HasErrors()
	}
	render.Diagnostics(env.stderr, cfg.Files(), diags, color, 0)
	return nil, false
}

// inputs resolves the variables of a workflow.
func (l *loaded) inputs(env *cliEnv, f *workflowFlags) (engine.Inputs, bool) {
	getenv, ok := f.credentialsGetenv(env)
	if !ok {
		return engine.Inputs{}, false
	}
	scope := lang.Scope{Dir: l.cfg.Dir, Getenv: getenv}
	vals, diags := l.cfg.ResolveVariables(lang.Inputs{Getenv: getenv, VarFiles: f.varFiles, Vars: f.vars}, scope)
	// The redactor of the run does not exist yet: hide the sensitive
	// values given (a -var-file snippet may quote one) here.
	var buf bytes.Buffer
	render.Diagnostics(&buf, l.cfg.Files(), diags, l.color, 0)
	if buf.Len() > 0 {
		secrets := sensitiveInputs(l.cfg, getenv, f.varFiles, f.vars)
		io.WriteString(env.stderr, redactVarSecrets(buf.String(), secrets))
	}
	return engine.Inputs{Variables: vals, Getenv: getenv}, !diags.HasErrors()
}

// useSandbox starts the in-process sandbox for --sandbox, points opts at
// it and adds its credentials to *secrets; it reports a failure on stderr.
// The caller defers stop.
func useSandbox(env *cliEnv, sb sandboxFlags, opts *engine.Options, secrets *[]string) (stop func(), ok bool) {
	srv, connect, sbSecrets, err := startSandbox(sb)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run run: %v\n", err)
		return nil, false
	}
	opts.Connect = connect
	*secrets = append(*secrets, sbSecrets...)
	return srv.Close, true
}

// startSandbox starts the in-process sandbox and returns a Connector that
// points every session at it with the demo user's credentials, and those
// credentials for redaction. It serves the data okru-run sandbox serves
// with the same flags, so ids found on one work on the other.
func startSandbox(sb sandboxFlags) (*okrutest.Server, engine.Connector, []string, error) {
	cfg := sb.config()
	// Nothing reads the call log of an in-process sandbox: keep a little,
	// so a batch of 100,000 calls does not hold them all.
	cfg.MaxCalls = 1000
	srv, err := okrutest.Start(cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start the sandbox: %w", err)
	}
	app, demo := srv.App(), srv.DemoUser()
	connect := func(_ context.Context, sc engine.SessionConfig) (engine.Caller, error) {
		opts := []okru.SessionOption{okru.WithAPIURL(srv.URL + "/"), okru.WithConnectURL(srv.URL + "/"), okru.WithAppID(app.ID)}
		var s *okru.Session
		switch strings.ToLower(sc.Circuit) {
		case "app":
			s = okru.AppSession(app.Key, app.SecretKey, opts...)
		case "client":
			s = okru.ClientSession(app.Key, demo.AccessToken, demo.SessionSecretKey, opts...)
		default:
			s = okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, opts...)
		}
		// The default pace would only slow examples down: the sandbox sets
		// no limit unless asked. A rate_limit the workflow sets is kept, so
		// a batch rehearsed offline keeps its pace.
		rate := okru.Unlimited
		if sc.RateLimit != 0 {
			rate = sc.RateLimit
		}
		return okru.New(s, &okru.Options{Rate: rate}), nil
	}
	secrets := []string{app.SecretKey, demo.AccessToken, demo.SessionSecretKey, demo.Password,
		okru.ServerSecret(demo.AccessToken, app.SecretKey)}
	return srv, connect, secrets, nil
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
