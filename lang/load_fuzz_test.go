package lang_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
)

// FuzzLoadSource feeds any text to the workflow loader and, when it loads,
// to the engine's compiler and planner (which call nothing): none may
// panic, every diagnostic must point inside the file it names, and a
// workflow that loads must format without error.
//
//	go test ./lang -run '^$' -fuzz FuzzLoadSource -fuzztime 60s
func FuzzLoadSource(f *testing.F) {
	for _, dir := range []string{"../examples", "../testdata/cli", "../testdata/batch"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{
		``, `call "a" {}`, `variable "x" { type = list(string) }`, `locals { a = b }`,
		`call "a" { method = "users.getInfo" for_each = [1] params = { uids = each.value } }`,
		"session \"s\" {\n  app_key = env(\"K\")\n}\ncall \"c\" {\n  method = \"users.getCurrentUser\"\n}\n",
		`output "o" { value = call.c[*].result }`, `call "c" { retry { attempts = 0 } }`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		// An input that takes this long has found a way to make a workflow
		// hang: crash, so that the fuzzer keeps it.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				panic(fmt.Sprintf("loading, compiling and planning took more than 20s: %q", src))
			}
		}()
		cfg, diags := lang.LoadSource("fuzz.hcl", src, dir)
		checkRanges(t, src, diags)
		if diags.HasErrors() {
			return
		}
		if _, d := lang.Format("fuzz.hcl", src); d.HasErrors() {
			t.Fatalf("a workflow that loads does not format: %s", d.Error())
		}
		w, d := engine.Compile(cfg)
		checkRanges(t, src, d)
		if d.HasErrors() {
			return
		}
		_, d = w.Plan(context.Background(), engine.Inputs{Variables: cfg.UnknownVariables()})
		checkRanges(t, src, d)
	})
}

// checkRanges checks that diagnostics about the fuzzed file point inside
// it.
func checkRanges(t *testing.T, src []byte, diags hcl.Diagnostics) {
	t.Helper()
	lines := strings.Count(string(src), "\n") + 1
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != "fuzz.hcl" {
			continue
		}
		r := d.Subject
		if r.Start.Line < 1 || r.End.Line > lines || r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
			t.Fatalf("diagnostic %q points at %s, outside the %d bytes of the file", d.Summary, r, len(src))
		}
	}
}
