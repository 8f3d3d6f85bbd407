package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/lang"
)

func init() {
	register("fmt", "rewrite .hcl files in the canonical layout", cmdFmt)
}

// cmdFmt formats workflow files like hclfmt: in place, or with -check to
// list the files that need it (exit 1 if any), -diff to show the changes,
// and "-" to format standard input to standard output.
func cmdFmt(_ context.Context, env *cliEnv, args []string) int {
	var check, diff bool
	var color string
	fs := newFlagSet(env, "fmt", "fmt [flags] [FILE|DIR|-]...")
	fs.BoolVar(&check, "check", false, "change nothing; list the files that are not formatted and exit 1 if any")
	fs.BoolVar(&diff, "diff", false, "show the changes as a unified diff")
	fs.StringVar(&color, "color", "auto", "colour of diagnostics: auto, always or never")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, "fmt", color) {
		return exitInvalid
	}
	useCol := useColor(env, color, env.stderr)
	if len(pos) == 0 {
		pos = []string{"."}
	}
	if len(pos) == 1 && pos[0] == "-" {
		return fmtStdin(env, useCol)
	}
	var files []string
	for _, p := range pos {
		found, err := hclFiles(p)
		if err != nil {
			fmt.Fprintf(env.stderr, "okru-run fmt: %v\n", err)
			return exitInvalid
		}
		files = append(files, found...)
	}
	code := exitOK
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(env.stderr, "okru-run fmt: read %s: %v\n", name, err)
			code = exitInvalid
			continue
		}
		out, diags := lang.Format(name, src)
		if diags.HasErrors() {
			render.Diagnostics(env.stderr, fmtSources(name, src), diags, useCol, 0)
			code = exitInvalid
			continue
		}
		if string(out) == string(src) {
			continue
		}
		fmt.Fprintln(env.stdout, name)
		if diff {
			fmt.Fprint(env.stdout, lang.UnifiedDiff(name+".orig", name, src, out))
		}
		if check {
			if code == exitOK {
				code = exitFailed
			}
			continue
		}
		if err := writeFileKeepMode(name, out); err != nil {
			fmt.Fprintf(env.stderr, "okru-run fmt: %v\n", err)
			code = exitInvalid
		}
	}
	return code
}

func fmtStdin(env *cliEnv, color bool) int {
	src, err := io.ReadAll(env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run fmt: read standard input: %v\n", err)
		return exitInvalid
	}
	out, diags := lang.Format("<stdin>", src)
	if diags.HasErrors() {
		render.Diagnostics(env.stderr, fmtSources("<stdin>", src), diags, color, 0)
		return exitInvalid
	}
	_, _ = env.stdout.Write(out)
	return exitOK
}

// fmtSources gives the diagnostics printer the source of a file that does
// not parse, for its snippets; but not of one nested too deeply, whose
// lines are typically thousands of brackets long.
func fmtSources(name string, src []byte) map[string]*hcl.File {
	if lang.CheckNesting(name, src).HasErrors() {
		return nil
	}
	return map[string]*hcl.File{name: {Bytes: src}}
}

// hclFiles lists path if it is a file, or the .hcl files of a folder.
func hclFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// writeFileKeepMode replaces a file through a temporary file in the same
// folder, so a crash never leaves it half written.
func writeFileKeepMode(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".fmt-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return os.Rename(tmp.Name(), name)
}
