package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestDocsListEveryFlag compares each command's flags with the tables of
// docs/cli.md: a table under a line "<!-- flags: CMD... -->" documents flags
// of those commands, and the tables of a command together must list exactly
// the flags it takes, with one dash. No other page has flag tables, so that
// cli.md stays the one place for every flag.
func TestDocsListEveryFlag(t *testing.T) {
	t.Parallel()
	documented := flagTables(t, cliDoc)
	for _, name := range commandNames() {
		var want []string
		for _, f := range commandFlags(t.Context(), name) {
			want = append(want, f.Name)
		}
		got := documented[name]
		for _, f := range want {
			if !slices.Contains(got, f) {
				t.Errorf("%s: no table lists -%s of %s", cliDoc, f, name)
			}
		}
		for _, f := range got {
			if !slices.Contains(want, f) {
				t.Errorf("%s: a table lists -%s for %s, which has no such flag", cliDoc, f, name)
			}
		}
	}
	for name := range documented {
		if _, ok := commands[name]; !ok {
			t.Errorf("%s: flag table for %s, which is not a command", cliDoc, name)
		}
	}
}

var (
	flagsMarker = regexp.MustCompile(`^<!-- flags: ([a-z ]+) -->$`)
	// A flag in a table's first column: `-name`, `-name VALUE`, `-name=...`.
	tableFlag = regexp.MustCompile("`(-{1,2})([a-z][a-z0-9-]*)[` =]")
	// A cell border: a | not escaped as \|.
	cellBorder = regexp.MustCompile(`(^|[^\\])\|`)
)

// flagTables returns the flags each command's tables in path list.
func flagTables(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags := map[string][]string{}
	var cmds []string // of the table being read
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := flagsMarker.FindStringSubmatch(line); m != nil {
			cmds = strings.Fields(m[1])
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if line != "" {
				cmds = nil // the table, if any, has ended
			}
			continue
		}
		if cmds == nil {
			continue
		}
		cells := cellBorder.Split(line, -1)
		if len(cells) < 2 {
			continue
		}
		for _, m := range tableFlag.FindAllStringSubmatch(cells[1]+" ", -1) {
			if m[1] != "-" {
				t.Errorf("%s: %q has two dashes; the docs use one", path, "--"+m[2])
			}
			for _, c := range cmds {
				if !slices.Contains(flags[c], m[2]) {
					flags[c] = append(flags[c], m[2])
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return flags
}

// cliDoc is the page with a flag table for every command.
const cliDoc = "docs/cli.md"

// docPages are the README and the pages of docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	return append([]string{"README.md"}, pages...)
}

// TestDocsFlagTablesOnlyInCLI keeps the flag tables in docs/cli.md, where
// TestDocsListEveryFlag reads them: a table elsewhere would go unchecked.
func TestDocsFlagTablesOnlyInCLI(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		if page == cliDoc {
			continue
		}
		for i, line := range readLines(t, page) {
			if flagsMarker.MatchString(line) {
				t.Errorf("%s:%d: a flag table outside %s", page, i+1, cliDoc)
			}
		}
	}
}

// doubleDash is a flag written with two dashes: --name.
var doubleDash = regexp.MustCompile("(^|[\\s`(\"'])--[a-z]")

// TestDocsOneDashStyle: every page writes flags with one dash, -sandbox,
// save the one sentence that says two work too.
func TestDocsOneDashStyle(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		for i, line := range readLines(t, page) {
			if doubleDash.MatchString(line) && !strings.Contains(line, "`--sandbox` works too") {
				t.Errorf("%s:%d: a flag with two dashes; the docs use one: %s", page, i+1, line)
			}
		}
	}
}

// TestDocsREADMEFrontPage keeps the README a front page: short, and with the
// two commands a newcomer runs first.
func TestDocsREADMEFrontPage(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 8<<10 {
		t.Errorf("README.md is %d bytes; a front page stays under 8 KiB: move reference text to docs/", len(data))
	}
	for _, cmd := range []string{"```sh\ngo run . run -sandbox examples/whoami.hcl\n```", "```sh\ngo test ./...\n```"} {
		if !bytes.Contains(data, []byte(cmd)) {
			t.Errorf("README.md lacks the quick-start command\n%s", cmd)
		}
	}
}

// mdLink is an inline link or image: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinksResolve checks every relative link of the README and of
// docs/*.md: its file exists, and its #anchor is a heading of the page it
// names, as GitHub makes anchors of headings.
func TestDocsLinksResolve(t *testing.T) {
	t.Parallel()
	anchors := map[string]map[string]bool{} // by page path
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := headingAnchors(readLines(t, path))
		anchors[path] = a
		return a
	}
	links := 0
	for _, page := range docPages(t) {
		fence := false
		for i, line := range readLines(t, page) {
			if strings.HasPrefix(line, "```") {
				fence = !fence
				continue
			}
			if fence {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				file, anchor, _ := strings.Cut(target, "#")
				path := page
				if file != "" {
					path = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s:%d: link %s: %v", page, i+1, target, err)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				if !strings.HasSuffix(path, ".md") {
					t.Errorf("%s:%d: link %s: an anchor in a file that is not Markdown", page, i+1, target)
					continue
				}
				if !anchorsOf(path)[anchor] {
					t.Errorf("%s:%d: link %s: %s has no heading with the anchor #%s", page, i+1, target, path, anchor)
				}
			}
		}
	}
	if links < 20 {
		t.Errorf("only %d relative links found; is the link pattern right?", links)
	}
}

// headingAnchors returns the anchors GitHub gives the headings of a page:
// lower case, punctuation dropped, spaces as dashes, and -1, -2, ... after
// a repeated one.
func headingAnchors(lines []string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fence := false
	for _, line := range lines {
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		anchors[a] = true
	}
	return anchors
}

// docExample is a fenced block of a page that the tests run.
type docExample struct {
	page string
	line int    // of the opening fence
	mode string // run, validate (HCL) or sh
	body []string
}

var (
	hclTestMarker = regexp.MustCompile(`^# docs-test: (\S+)$`)
	shTestMarker  = "<!-- docs-test: sh -->"
)

// docExamples returns the tested examples of a page: ```hcl blocks whose
// first line is "# docs-test: run" (validate, then run -sandbox: they only
// read, or write only to the sandbox) or "# docs-test: validate", and ```sh
// blocks under a line "<!-- docs-test: sh -->", whose okru-run commands are
// run as they are.
func docExamples(t *testing.T, page string) []docExample {
	t.Helper()
	var out []docExample
	var cur *docExample
	prev := ""
	for i, line := range readLines(t, page) {
		switch {
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			if cur.mode == "" {
				if m := hclTestMarker.FindStringSubmatch(line); m != nil {
					cur.mode = m[1]
				} else {
					cur.mode = "-" // not tested
				}
			}
			cur.body = append(cur.body, line)
		case strings.HasPrefix(line, "```"):
			info := strings.TrimPrefix(line, "```")
			if prev == shTestMarker {
				if info != "sh" {
					t.Errorf("%s:%d: %s above a ```%s block; only sh blocks run", page, i+1, shTestMarker, info)
				}
				cur = &docExample{page: page, line: i + 1, mode: "sh"}
				continue
			}
			mode := "-"
			if info == "hcl" {
				mode = "" // the first line says
			}
			cur = &docExample{page: page, line: i + 1, mode: mode}
		}
		if line != "" {
			prev = line
		}
	}
	if cur != nil {
		t.Errorf("%s: a fenced block is not closed", page)
	}
	var tested []docExample
	for _, ex := range out {
		switch ex.mode {
		case "run", "validate", "sh":
			tested = append(tested, ex)
		case "-":
		default:
			t.Errorf("%s:%d: docs-test: %s; the modes are run and validate", page, ex.line, ex.mode)
		}
	}
	return tested
}

// pagesWithoutExamples need no tested example of their own: the Go
// library's examples are the okru package's Example functions
// (TestDocsGoExamplesExist); events.md and threat-model.md describe and
// show no runs.
var pagesWithoutExamples = []string{"docs/go-library.md", "docs/events.md", "docs/threat-model.md"}

// TestDocsExamples runs the tested examples of every page in process, each
// in a folder of its own holding a copy of examples/ and keys.txt (two ids,
// for the batch page's keys file): an HCL workflow is validated and, unless
// it is marked validate, run against the sandbox; each okru-run command of
// a sh block (also written "go run . ...") must exit 0. Other go commands
// are not run; any other command in a tested block is an error.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		examples := docExamples(t, page)
		if len(examples) == 0 && !slices.Contains(pagesWithoutExamples, page) {
			t.Errorf("%s has no tested example: mark a complete workflow \"# docs-test: run\" or a sh block %s", page, shTestMarker)
		}
		for _, ex := range examples {
			t.Run(fmt.Sprintf("%s:%d", page, ex.line), func(t *testing.T) {
				t.Parallel()
				dir := filepath.Dir(copyExamples(t))
				if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte("500000000001\n500000000002\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if ex.mode == "sh" {
					runShExample(t, ex, dir)
					return
				}
				wf := filepath.Join(dir, "docs.hcl")
				if err := os.WriteFile(wf, []byte(strings.Join(ex.body, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				argss := [][]string{{"validate", wf}}
				if ex.mode == "run" {
					argss = append(argss, []string{"run", "-sandbox", wf})
				}
				for _, args := range argss {
					if r := runCLI(t, nil, "", args...); r.code != exitOK {
						t.Errorf("%s:%d: okru-run %s: exit %d\n%s", ex.page, ex.line, args[0], r.code, r.stderr)
					}
				}
			})
		}
	}
}

// runShExample runs the okru-run commands of a sh block, with the paths
// under examples/ pointing at dir's copy.
func runShExample(t *testing.T, ex docExample, dir string) {
	t.Helper()
	ran := 0
	for i, line := range ex.body {
		words := shellWords(line)
		if len(words) == 0 {
			continue
		}
		var args []string
		switch {
		case words[0] == "okru-run":
			args = words[1:]
		case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == ".":
			args = words[3:]
		case words[0] == "go":
			continue // go install, go test: not run here
		default:
			t.Errorf("%s:%d: %s: only okru-run and go commands may be in a tested sh block", ex.page, ex.line+1+i, line)
			continue
		}
		for j, a := range args {
			if strings.HasPrefix(a, "examples/") {
				args[j] = filepath.Join(dir, filepath.FromSlash(a))
			}
		}
		ran++
		if r := runCLI(t, nil, "", args...); r.code != exitOK {
			t.Errorf("%s:%d: %s: exit %d\n%s", ex.page, ex.line+1+i, line, r.code, r.stderr)
		}
	}
	if ran == 0 {
		t.Errorf("%s:%d: a tested sh block with no okru-run command", ex.page, ex.line)
	}
}

// shellWords splits a command line as a shell does for the plain lines of
// the docs: words between spaces, '...' and "..." quotes, a # starting a
// comment.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '#' && !in:
			return words
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// exampleFunc is the name of an Example function of a Go package.
var exampleFunc = regexp.MustCompile(`\bExample[A-Za-z0-9_]+`)

// TestDocsGoExamplesExist checks that every Example function docs/go-library.md
// names is in the okru package's tests, where go test runs it.
func TestDocsGoExamplesExist(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("docs/go-library.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("okru/*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	names := exampleFunc.FindAllString(string(data), -1)
	if len(names) == 0 {
		t.Fatal("docs/go-library.md names no Example function")
	}
	for _, name := range names {
		if !strings.Contains(src.String(), "\nfunc "+name+"() {") {
			t.Errorf("docs/go-library.md names %s, which okru/*_test.go does not define", name)
		}
	}
}

// readLines returns the lines of a file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// duration is a time a run measured, which changes from run to run.
var duration = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|ms|s)\b`)

// TestDocsREADMETour checks the tour's output as the README shows it: each
// block whose first line is "$ okru-run ... friends.hcl" holds exactly what
// that command prints for the README's tested workflow, stderr then stdout,
// measured times aside.
func TestDocsREADMETour(t *testing.T) {
	t.Parallel()
	var workflow []string
	for _, ex := range docExamples(t, "README.md") {
		if ex.mode == "run" {
			workflow = ex.body
		}
	}
	if workflow == nil {
		t.Fatal("README.md has no workflow marked # docs-test: run")
	}
	dir := t.TempDir()
	wf := filepath.Join(dir, "friends.hcl")
	if err := os.WriteFile(wf, []byte(strings.Join(workflow, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, "README.md")
	shown := 0
	for i := 0; i+1 < len(lines); i++ {
		cmd, ok := strings.CutPrefix(lines[i+1], "$ okru-run ")
		if lines[i] != "```" || !ok {
			continue
		}
		var want []string
		for _, l := range lines[i+2:] {
			if l == "```" {
				break
			}
			want = append(want, l)
		}
		args := strings.Fields(cmd)
		if len(args) == 0 || args[len(args)-1] != "friends.hcl" {
			t.Errorf("README.md:%d: $ okru-run %s: the tour's commands end with friends.hcl", i+2, cmd)
			continue
		}
		args[len(args)-1] = wf
		shown++
		r := runCLI(t, nil, "", args...)
		if r.code != exitOK {
			t.Errorf("README.md:%d: okru-run %s: exit %d\n%s", i+2, cmd, r.code, r.stderr)
			continue
		}
		got := strings.TrimSuffix(r.stderr+r.stdout, "\n")
		norm := func(s string) string { return duration.ReplaceAllString(s, "D") }
		if norm(got) != norm(strings.Join(want, "\n")) {
			t.Errorf("README.md:%d: okru-run %s prints\n%s\nbut the README shows\n%s", i+2, cmd, got, strings.Join(want, "\n"))
		}
	}
	if shown < 2 {
		t.Errorf("README.md shows %d commands of the tour; want its plan and its run", shown)
	}
}
