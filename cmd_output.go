package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
)

func init() {
	register("output", "print the outputs of the last run, from its state journal", cmdOutput)
}

// cmdOutput is okru-run output [flags] [FILE|DIR] [NAME], as terraform
// output: the outputs the last run of a workflow recorded in its state
// journal (.okru-run/NAME.journal beside it, or -state FILE), so that a
// later CI step can read them without running again.
func cmdOutput(_ context.Context, env *cliEnv, args []string) int {
	var asJSON, raw bool
	var statePath string
	fs := newFlagSet(env, "output", "output [flags] [FILE|DIR] [NAME]")
	fs.BoolVar(&asJSON, "json", false, "print the outputs (or the one named) as JSON")
	fs.BoolVar(&raw, "raw", false, "print the named output, a string, number or bool, as it is, without quotes or a newline")
	fs.StringVar(&statePath, "state", "", "read this state `file` rather than the workflow's default one")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	workflow, name, ok := outputArgs(env, pos)
	if !ok {
		return exitInvalid
	}
	if raw && (asJSON || name == "") {
		fmt.Fprintln(env.stderr, "okru-run output: -raw prints one output: name it, and leave out -json")
		return exitInvalid
	}
	if statePath == "" {
		statePath = defaultStatePath(workflow, engine.Shard{})
	} else if !checkPathFlag(env, "output", "state", statePath, "state") {
		return exitFailed
	}
	if _, err := os.Stat(statePath); err != nil {
		fmt.Fprintf(env.stderr, "okru-run output: no state at %s: run the workflow first (okru-run run %s), or name the state with -state FILE\n", statePath, workflow)
		return exitFailed
	}
	outs, found, err := engine.ReadOutputs(statePath)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run output: %v\n", err)
		return exitFailed
	}
	if !found {
		fmt.Fprintf(env.stderr, "okru-run output: the state %s records no outputs: its run did not end (resume it with okru-run run -resume), or an older okru-run made it\n", statePath)
		return exitFailed
	}
	if name != "" {
		for _, o := range outs {
			if o.Name == name {
				return printOutput(env, o, asJSON, raw)
			}
		}
		var names []string
		for _, o := range outs {
			names = append(names, o.Name)
		}
		fmt.Fprintf(env.stderr, "okru-run output: the last run recorded no output %q; it has: %s\n", name, strings.Join(names, ", "))
		return exitFailed
	}
	if asJSON {
		return printOutputsJSON(env, outs)
	}
	for _, o := range outs {
		fmt.Fprintf(env.stdout, "%s = %s\n", o.Name, outputText(o))
	}
	return exitOK
}

// outputArgs reads [FILE|DIR] [NAME]: one argument is the workflow when
// such a file or folder exists, else the name of an output.
func outputArgs(env *cliEnv, pos []string) (workflow, name string, ok bool) {
	switch len(pos) {
	case 0:
		return ".", "", true
	case 1:
		if _, err := os.Stat(pos[0]); err == nil || isWorkflowName(pos[0]) {
			return pos[0], "", true
		}
		return ".", pos[0], true
	case 2:
		return pos[0], pos[1], true
	}
	fmt.Fprintf(env.stderr, "okru-run output: at most a workflow and an output name expected, got %d arguments\n", len(pos))
	return "", "", false
}

// isWorkflowName reports whether s names a workflow or script file
// rather than an output.
func isWorkflowName(s string) bool {
	return strings.HasSuffix(s, ".hcl") || strings.HasSuffix(s, ".hcl.json") || isScriptPath(s) || strings.ContainsRune(s, os.PathSeparator)
}

// outputText shows an output as HCL, as run prints it.
func outputText(o engine.RecordedOutput) string {
	if o.Sensitive {
		return "(sensitive)"
	}
	v, err := lang.ValueFromJSON(o.Value)
	if err != nil {
		return string(o.Value)
	}
	return lang.FormatValue(v, 0)
}

func printOutput(env *cliEnv, o engine.RecordedOutput, asJSON, raw bool) int {
	switch {
	case o.Sensitive && (raw || asJSON):
		fmt.Fprintf(env.stderr, "okru-run output: %s is sensitive: its value is not recorded in the state\n", o.Name)
		return exitFailed
	case raw:
		var s any
		d := json.NewDecoder(bytes.NewReader(o.Value))
		d.UseNumber()
		if err := d.Decode(&s); err != nil {
			return exitFailed
		}
		switch v := s.(type) {
		case string:
			fmt.Fprint(env.stdout, v)
		case json.Number, bool:
			fmt.Fprint(env.stdout, v)
		default:
			fmt.Fprintf(env.stderr, "okru-run output: -raw prints only strings, numbers and bools; %s is not one (use -json)\n", o.Name)
			return exitFailed
		}
	case asJSON:
		fmt.Fprintf(env.stdout, "%s\n", o.Value)
	default:
		fmt.Fprintln(env.stdout, outputText(o))
	}
	return exitOK
}

// printOutputsJSON prints {"name": {"value": ..., "sensitive": false}},
// as terraform output -json does; a sensitive output has no value.
func printOutputsJSON(env *cliEnv, outs []engine.RecordedOutput) int {
	var b bytes.Buffer
	b.WriteString("{")
	for i, o := range outs {
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(o.Name)
		b.WriteString("\n  " + string(name) + ": ")
		if o.Sensitive {
			b.WriteString(`{"sensitive": true}`)
			continue
		}
		b.WriteString(`{"sensitive": false, "value": `)
		b.Write(o.Value)
		b.WriteString("}")
	}
	b.WriteString("\n}\n")
	env.stdout.Write(b.Bytes())
	return exitOK
}
