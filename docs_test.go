package main

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocsListEveryFlag compares each command's flags with the tables of
// docs/cli.md: a table under a line "<!-- flags: CMD... -->" documents flags
// of those commands, and the tables of a command together must list exactly
// the flags it takes, with one dash.
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
