package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
)

// This file holds run's flags for unattended batch runs: the state journal
// and -resume, -shard, the grace period after a signal, and progress
// reports off a terminal.

// defaultGrace is how long calls in flight may finish after the first
// SIGINT or SIGTERM.
const defaultGrace = 10 * time.Second

// liveProgressEvery refreshes progress bars on a terminal when no call
// finishes to do it.
const liveProgressEvery = 500 * time.Millisecond

type batchFlags struct {
	state        string
	noState      bool
	resume       bool
	fresh        bool
	retryUnknown bool
	shardText    string
	shard        engine.Shard
	grace        time.Duration
	progress     time.Duration
}

func (b *batchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.state, "state", "", "the run's state `file`, to resume it after a crash or a stop (default .okru-run/NAME.journal beside the workflow; none for -sandbox and .lua script runs unless given)")
	fs.BoolVar(&b.noState, "no-state", false, "keep no state: the run cannot be resumed, and other runs of the workflow may run at the same time")
	fs.BoolVar(&b.resume, "resume", false, "continue the run recorded in the state: finished calls are not repeated (starts a new run when there is none)")
	fs.BoolVar(&b.fresh, "fresh", false, "discard the state and start over (writes of the recorded run may be sent again)")
	fs.BoolVar(&b.retryUnknown, "retry-unknown", false, "with -resume: send again the writes whose outcome is unknown")
	fs.StringVar(&b.shardText, "shard", "", "run share `I/N` of every for_each, for N jobs that split one batch (each keeps its own state)")
	fs.DurationVar(&b.grace, "grace", defaultGrace, "after SIGINT or SIGTERM, how long calls in flight may finish; a second signal quits at once")
	fs.DurationVar(&b.progress, "progress", 5*time.Second, "how often to report progress off a terminal and with -json; 0 never")
}

// check validates the flags and says what is wrong.
func (b *batchFlags) check(env *cliEnv) bool {
	fail := func(format string, a ...any) bool {
		fmt.Fprintf(env.stderr, "okru-run run: "+format+"\n", a...)
		return false
	}
	switch {
	case b.noState && (b.state != "" || b.resume || b.fresh || b.retryUnknown):
		return fail("-no-state contradicts -state, -resume, -fresh and -retry-unknown")
	case b.resume && b.fresh:
		return fail("-resume and -fresh contradict each other: -resume continues the recorded run, -fresh discards it")
	case b.retryUnknown && !b.resume:
		return fail("-retry-unknown applies to a resumed run: add -resume")
	case b.grace < 0:
		return fail("-grace must not be negative, got %s", b.grace)
	case b.progress < 0:
		return fail("-progress must not be negative, got %s", b.progress)
	}
	if b.shardText != "" {
		sh, err := engine.ParseShard(b.shardText)
		if err != nil {
			return fail("-shard: %v", err)
		}
		b.shard = sh
	}
	return true
}

// apply sets the run's state, shard and progress, or says why it cannot. Without -state, the
// state is kept at defaultStatePath unless noDefault says why this run
// keeps none (and what to do to resume it), as for a sandbox run, which
// starts a fresh in-process sandbox that a resumed run could not find.
func (b *batchFlags) apply(opts *engine.Options, workflow, noDefault string, live bool, secrets []string) error {
	opts.Shard = b.shard
	opts.ProgressEvery = b.progress
	if live {
		opts.ProgressEvery = liveProgressEvery
	}
	path := b.state
	if b.noState {
		return nil
	}
	if path == "" && noDefault != "" {
		if b.resume || b.fresh || b.retryUnknown {
			return errors.New(noDefault)
		}
		return nil
	}
	if path == "" {
		path = defaultStatePath(workflow, b.shard)
	}
	opts.State = &engine.StateOptions{Path: path, Workflow: workflow, Resume: b.resume, Fresh: b.fresh,
		RetryUnknown: b.retryUnknown, Secrets: secrets}
	return nil
}

// defaultStatePath is .okru-run/NAME.journal beside the workflow (in the
// folder for a folder workflow), with the shard in the name so that the
// jobs of a matrix sharing a checkout do not share a state.
func defaultStatePath(workflow string, sh engine.Shard) string {
	dir, name := filepath.Dir(workflow), filepath.Base(workflow)
	if fi, err := os.Stat(workflow); err == nil && fi.IsDir() {
		dir, name = workflow, "workflow"
	}
	if sh.Sharded() {
		name += fmt.Sprintf(".shard-%d-of-%d", sh.Index, sh.Count)
	}
	return filepath.Join(dir, ".okru-run", name+".journal")
}

// callContext returns the context the run's calls use. The first signal
// ends ctx: the engine then starts nothing new (opts.Stop) and the calls
// in flight get -grace to finish before this context cancels them too. A
// second signal ends the process (see main), the state being consistent
// at every moment.
func (b *batchFlags) callContext(ctx context.Context, opts *engine.Options) (context.Context, func()) {
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	opts.Stop = ctx.Done()
	unwatch := context.AfterFunc(ctx, func() {
		t := time.NewTimer(b.grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-callCtx.Done():
		}
	})
	return callCtx, func() {
		unwatch()
		cancel()
	}
}

// reportInterrupted says what an interrupted run did and how to go on.
// w is the run's redacting stderr. The resume command shows "..." for the
// value of a sensitive variable (by its declaration in cfg, by its name,
// or because it holds one of the run's secrets) and [REDACTED] for any
// other word that holds a secret, with a note to give them again.
func (b *batchFlags) reportInterrupted(w io.Writer, opts *engine.Options, res *engine.Result, args []string, cfg *lang.Config) {
	done := pluralize(res.Calls, "call") + " made"
	if res.Reused > 0 {
		done += fmt.Sprintf(", %d done by the run it resumed", res.Reused)
	}
	if opts.State == nil {
		fmt.Fprintf(w, "okru-run: interrupted: %s; no state was kept, so a new run starts over\n", done)
		return
	}
	if _, err := os.Lstat(opts.State.Path); err != nil {
		// Stopped while the workflow was checked, before the journal
		// was opened: there is nothing to resume.
		fmt.Fprintf(w, "okru-run: interrupted before the first call: nothing was recorded, so a new run starts over\n")
		return
	}
	var secrets []string
	r, _ := w.(*redactor)
	if r != nil {
		secrets = r.secrets
	}
	sensitive := map[string]bool{}
	if cfg != nil {
		for _, v := range cfg.Variables {
			sensitive[v.Name] = v.Sensitive
		}
	}
	cmd, hidden := resumeCommand(args, secrets, sensitive)
	fmt.Fprintf(w, "okru-run: interrupted: %s; the state is in %s\n", done, opts.State.Path)
	line := "okru-run: to continue: " + cmd + "\n"
	if r != nil {
		// Every word of the command was redacted on its own already; the
		// redactor would make "password=..." "password=[REDACTED]".
		r.Flush()
		r.mu.Lock()
		_, _ = io.WriteString(r.w, line)
		r.mu.Unlock()
	} else {
		_, _ = io.WriteString(w, line)
	}
	if hidden {
		fmt.Fprintf(w, "okru-run: sensitive values are not shown (... or [REDACTED]): give them again in their place\n")
	}
}

// resumeCommand is the command line that resumes a run started with args.
// Of the -var flags of one name only the last is kept, the one the run
// used; its value is "..." when the variable is sensitive or holds one of
// secrets. Any other word that holds a secret is redacted, and hidden
// reports that something was. The arguments of a script (after its name)
// are copied as they are, never read as flags.
func resumeCommand(args, secrets []string, sensitive map[string]bool) (cmd string, hidden bool) {
	end := flagsEnd(args)
	// The word (index) holding the last "name=value" of each -var name.
	last := map[string]int{}
	varAt := func(i int) (nv string, ok bool) {
		a := args[i]
		flag := strings.TrimLeft(a, "-")
		switch {
		case i >= end:
		case strings.HasPrefix(a, "-") && strings.HasPrefix(flag, "var="):
			return flag[len("var="):], true
		case i > 0 && args[i-1] != "--" && strings.HasPrefix(args[i-1], "-") && strings.TrimLeft(args[i-1], "-") == "var" && i-1 < end:
			return a, true
		}
		return "", false
	}
	for i := range args {
		if nv, ok := varAt(i); ok {
			name, _, _ := strings.Cut(nv, "=")
			last[name] = i
		}
	}
	parts := []string{"okru-run", "run", "-resume"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		isFlag := i < end && strings.HasPrefix(a, "-")
		switch strings.TrimLeft(a, "-") {
		case "resume", "fresh", "resume=true", "fresh=true":
			if isFlag {
				continue
			}
		case "var":
			// A -var whose name is set again later: drop it and its value.
			if isFlag && i+1 < len(args) {
				if nv, ok := varAt(i + 1); ok {
					name, _, _ := strings.Cut(nv, "=")
					if last[name] != i+1 {
						i++
						continue
					}
				}
			}
		}
		if nv, ok := varAt(i); ok {
			name, _, _ := strings.Cut(nv, "=")
			if last[name] != i {
				continue
			}
			var v string
			v, hidden = hideVar(nv, secrets, sensitive, hidden)
			a = a[:len(a)-len(nv)] + v
		} else if clean := okru.Redact(a, secrets...); clean != a {
			a, hidden = clean, true
		}
		parts = append(parts, shellWord(a))
	}
	return strings.Join(parts, " "), hidden
}

// flagsEnd returns where the flags of a script run end: the arguments
// after the script's name are the script's. It is len(args) for a
// workflow run, whose flags may come anywhere.
func flagsEnd(args []string) int {
	if !isScriptRun(args) {
		return len(args)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f scriptFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return len(args)
	}
	return len(args) - len(fs.Args()) + 1
}

// hideVar returns a -var's "name=value" with the value "..." if the
// variable is sensitive or the value holds one of secrets.
func hideVar(nv string, secrets []string, sensitive map[string]bool, hidden bool) (string, bool) {
	name, value, ok := strings.Cut(nv, "=")
	if !ok {
		return okru.Redact(nv, secrets...), hidden || okru.Redact(nv, secrets...) != nv
	}
	if sensitive[name] || okru.IsSensitiveParam(name) || okru.Redact(value, secrets...) != value {
		return name + "=...", true
	}
	return nv, hidden
}

// shellWord quotes s for a POSIX shell only when it needs it, so that a
// resume command stays readable.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pluralize is "1 call", "2 calls", as the engine's messages say it.
func pluralize(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
