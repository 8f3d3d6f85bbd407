package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/engine/render"
)

// A JSON Schema validator for the subset docs/events.schema.json uses:
// $ref to "#/$defs/NAME", type, const, enum, required, properties,
// additionalProperties (false or a schema), items, oneOf and minimum.
// Annotations (title, description, $schema, $id) are ignored. A schema
// that uses any other keyword is refused, so the schema cannot silently
// say more than this checks.

type jsonSchema struct {
	root map[string]any
}

// schemaKeywords are the keywords validate implements or ignores.
var schemaKeywords = map[string]bool{
	"$ref": true, "type": true, "const": true, "enum": true, "required": true, "properties": true,
	"additionalProperties": true, "items": true, "oneOf": true, "minimum": true,
	"$schema": true, "$id": true, "$defs": true, "title": true, "description": true,
}

func loadSchema(t *testing.T, path string) *jsonSchema {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s := &jsonSchema{root: root}
	if err := s.checkKeywords(root, "#"); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// checkKeywords refuses keywords validate does not implement, anywhere a
// schema is expected.
func (s *jsonSchema) checkKeywords(node any, at string) error {
	m, ok := node.(map[string]any)
	if !ok {
		if _, isBool := node.(bool); isBool {
			return nil
		}
		return fmt.Errorf("%s: a schema must be an object or a boolean", at)
	}
	for k, v := range m {
		if !schemaKeywords[k] {
			return fmt.Errorf("%s: keyword %q is not implemented by this validator", at, k)
		}
		var subs map[string]any
		switch k {
		case "properties", "$defs":
			subs, _ = v.(map[string]any)
		case "items", "additionalProperties":
			subs = map[string]any{"": v}
		case "oneOf":
			subs = map[string]any{}
			for i, x := range v.([]any) {
				subs[fmt.Sprint(i)] = x
			}
		}
		for name, sub := range subs {
			if err := s.checkKeywords(sub, at+"/"+k+"/"+name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *jsonSchema) resolve(ref string) (any, error) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only #/$defs/NAME is supported", ref)
	}
	defs, _ := s.root["$defs"].(map[string]any)
	def, ok := defs[name]
	if !ok {
		return nil, fmt.Errorf("$ref %q: no such definition", ref)
	}
	return def, nil
}

// validate checks the JSON value v (as encoding/json decodes into any)
// against schema; at names v in messages.
func (s *jsonSchema) validate(schema, v any, at string) error {
	if b, ok := schema.(bool); ok {
		if !b {
			return fmt.Errorf("%s: not allowed", at)
		}
		return nil
	}
	m := schema.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		def, err := s.resolve(ref)
		if err != nil {
			return err
		}
		if err := s.validate(def, v, at); err != nil {
			return err
		}
	}
	if t, ok := m["type"]; ok && !hasType(v, t) {
		return fmt.Errorf("%s: %s is not of type %v", at, short(v), t)
	}
	if c, ok := m["const"]; ok && !reflect.DeepEqual(c, v) {
		return fmt.Errorf("%s: %s is not %s", at, short(v), short(c))
	}
	if e, ok := m["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return reflect.DeepEqual(x, v) }) {
		return fmt.Errorf("%s: %s is not one of %s", at, short(v), short(e))
	}
	if min, ok := m["minimum"].(float64); ok {
		if n, isNum := v.(float64); isNum && n < min {
			return fmt.Errorf("%s: %v is less than %v", at, n, min)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		if err := s.validateObject(m, obj, at); err != nil {
			return err
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := m["items"]; ok {
			for i, x := range arr {
				if err := s.validate(items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	if one, ok := m["oneOf"].([]any); ok {
		return s.validateOneOf(one, v, at)
	}
	return nil
}

func (s *jsonSchema) validateObject(m map[string]any, obj map[string]any, at string) error {
	for _, r := range asStrings(m["required"]) {
		if _, ok := obj[r]; !ok {
			return fmt.Errorf("%s: %q is required", at, r)
		}
	}
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		sub, declared := props[k]
		if !declared {
			extra, ok := m["additionalProperties"]
			if !ok {
				continue
			}
			sub = extra
		}
		if err := s.validate(sub, obj[k], at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// validateOneOf wants exactly one match. When none matches, it explains
// with the branch whose "type" property is the value's type, the way a
// reader looks up an event's definition.
func (s *jsonSchema) validateOneOf(branches []any, v any, at string) error {
	matched := 0
	var explain error
	for _, b := range branches {
		err := s.validate(b, v, at)
		if err == nil {
			matched++
			continue
		}
		if s.discriminates(b, v) {
			explain = err
		}
	}
	switch {
	case matched == 1:
		return nil
	case matched > 1:
		return fmt.Errorf("%s: matches %d branches of oneOf, want one", at, matched)
	case explain != nil:
		return explain
	}
	return fmt.Errorf("%s: %s matches no branch of oneOf", at, short(v))
}

// discriminates reports whether branch b is the one for v's "type".
func (s *jsonSchema) discriminates(b, v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	bm, _ := b.(map[string]any)
	if ref, ok := bm["$ref"].(string); ok {
		def, err := s.resolve(ref)
		if err != nil {
			return false
		}
		bm, _ = def.(map[string]any)
	}
	props, _ := bm["properties"].(map[string]any)
	typ, _ := props["type"].(map[string]any)
	return typ != nil && reflect.DeepEqual(typ["const"], obj["type"])
}

func hasType(v, t any) bool {
	if ts, ok := t.([]any); ok {
		return slices.ContainsFunc(ts, func(x any) bool { return hasType(v, x) })
	}
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// validateLines checks every line of NDJSON against the schema and
// returns them decoded.
func (s *jsonSchema) validateLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" && i == 0 {
			break
		}
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not JSON: %q: %v", i+1, line, err)
		}
		if err := s.validate(s.root, v, fmt.Sprintf("line %d", i+1)); err != nil {
			t.Errorf("%v\n  %s", err, line)
		}
		if m, ok := v.(map[string]any); ok {
			lines = append(lines, m)
		}
	}
	return lines
}

// TestSchemaValidator checks the validator itself: it must refuse what
// the schema forbids, or the schema test proves nothing.
func TestSchemaValidator(t *testing.T) {
	t.Parallel()
	s := loadSchema(t, "docs/events.schema.json")
	tests := []struct {
		name, line, want string
	}{
		{"valid", `{"type":"result","valid":true}`, ""},
		{"unknown type", `{"type":"nope"}`, "matches no branch"},
		{"missing field", `{"type":"version","format_version":"1.0"}`, `"okru_run" is required`},
		{"extra field", `{"type":"result","valid":true,"extra":1}`, "not allowed"},
		{"wrong type", `{"type":"result","valid":"yes"}`, "not of type"},
		{"not an integer", `{"type":"stopping","in_flight":1.5}`, "not of type"},
		{"negative", `{"type":"stopping","in_flight":-1}`, "less than"},
		{"enum", `{"type":"diagnostic","severity":"fatal","summary":"x"}`, "not one of"},
		{"nested", `{"type":"diagnostic","severity":"error","summary":"x","range":{"filename":"f","start":{"line":1},"end":{"line":1,"column":1}}}`, `"column" is required`},
		{"items", `{"type":"diagnostic","severity":"error","summary":"x","similar_instances":[1]}`, "not of type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.line), &v); err != nil {
				t.Fatal(err)
			}
			err := s.validate(s.root, v, "line")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid line refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v, want one saying %q", err, tt.want)
			}
		})
	}
	bad := &jsonSchema{}
	if err := bad.checkKeywords(map[string]any{"pattern": "x"}, "#"); err == nil {
		t.Error("a schema with a keyword the validator does not implement was accepted")
	}
}

// TestEventsSchema validates every line of real -json runs against
// docs/events.schema.json: a success, failures, many failures, a load
// error, a variable error, validate, plan, a script, a resumed run with
// progress lines, and an interrupted run. Each starts with the version
// line and ends with the outputs (validate: with its result).
func TestEventsSchema(t *testing.T) {
	t.Parallel()
	s := loadSchema(t, "docs/events.schema.json")
	state := filepath.Join(t.TempDir(), "many.journal")
	tests := []struct {
		name string
		args []string
		code int
		last string
		// then runs after the command, on the same state.
		then []string
	}{
		{name: "success", args: []string{"run", "-sandbox", "examples/group-members.hcl"}, last: "outputs"},
		{name: "failed call", args: []string{"run", "-sandbox", "-parallelism", "1", "testdata/cli/call_fails.hcl"}, code: exitFailed, last: "outputs"},
		{name: "many failures", args: []string{"run", "-sandbox", "-continue-on-error", "-state", state, "testdata/cli/many_failures.hcl"},
			code: exitFailed, last: "outputs",
			then: []string{"run", "-sandbox", "-continue-on-error", "-resume", "-state", state, "-sandbox-latency", "2ms", "-progress", "1ms", "testdata/cli/many_failures.hcl"}},
		{name: "load error", args: []string{"run", "-sandbox", "testdata/cli/unknown_reference.hcl"}, code: exitInvalid, last: "outputs"},
		{name: "variable error", args: []string{"run", "-sandbox", "-var", "name=x", "-var", "limit=500", "testdata/cli/variables.hcl"}, code: exitInvalid, last: "outputs"},
		{name: "validate syntax error", args: []string{"validate", "testdata/cli/syntax_error.hcl"}, code: exitInvalid, last: "result"},
		{name: "validate", args: []string{"validate", "examples/group-members.hcl"}, last: "result"},
		{name: "plan", args: []string{"plan", "-sandbox", "testdata/cli/when_and_paging.hcl", "-var", "post=true"}, last: "outputs"},
		{name: "plan error", args: []string{"plan", "testdata/cli/type_errors.hcl"}, code: exitInvalid, last: "outputs"},
		{name: "script", args: []string{"run", "-sandbox", "examples/post-and-verify.lua", "from -json"}, last: "outputs"},
		{name: "upload plan", args: []string{"plan", "examples/topic-with-photos"}, last: "outputs"},
		{name: "upload run", args: []string{"run", "-sandbox", "-progress", "1ms", "examples/publish-video"}, last: "outputs"},
		{name: "plan assertions", args: []string{"plan", "-sandbox", "testdata/cli/assertions.hcl"}, last: "outputs"},
		{name: "postcondition fails", args: []string{"run", "-sandbox", "-var", "min_friends=100000", "testdata/cli/assertions.hcl"}, code: exitFailed, last: "outputs"},
		{name: "precondition fails", args: []string{"run", "-sandbox", "-var", "min_friends=-1", "testdata/cli/assertions.hcl"}, code: exitFailed, last: "outputs"},
		{name: "script fails", args: []string{"run", "-sandbox", "testdata/cli/script_fails.lua"}, code: exitFailed, last: "outputs"},
		{name: "test", args: []string{"test", "testdata/tests/pass"}, last: "test_summary"},
		{name: "test fails", args: []string{"test", "testdata/tests/fail"}, code: exitFailed, last: "test_summary"},
		{name: "test invalid", args: []string{"test", "testdata/tests/bad"}, code: exitInvalid, last: "test_summary"},
		{name: "test no files", args: []string{"test", "testdata/cli"}, code: exitInvalid, last: "test_summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{tt.args, tt.then} {
				if args == nil {
					continue
				}
				r := runCLI(t, nil, "", append([]string{args[0], "-json"}, args[1:]...)...)
				if r.code != tt.code {
					t.Fatalf("%s: exit %d, want %d:\n%s", strings.Join(args, " "), r.code, tt.code, r.stderr)
				}
				lines := s.validateLines(t, r.stdout)
				checkEnds(t, lines, tt.last)
				checkSummaryAgrees(t, lines)
				if tt.name == "many failures" {
					checkFailedEvents(t, lines)
				}
				if tt.name == "precondition fails" {
					checkPreconditionFailed(t, lines)
				}
			}
		})
	}
}

// checkEnds checks the first line (the version) and the last.
func checkEnds(t *testing.T, lines []map[string]any, last string) {
	t.Helper()
	if len(lines) < 2 {
		t.Fatalf("%d lines, want at least the version and the %s", len(lines), last)
	}
	if lines[0]["type"] != "version" || lines[0]["format_version"] != render.FormatVersion {
		t.Errorf("first line = %v, want the version line of format %s", lines[0], render.FormatVersion)
	}
	if got := lines[len(lines)-1]["type"]; got != last {
		t.Errorf("last line is a %v line, want %s", got, last)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if l["type"] == "version" || l["type"] == last {
			t.Errorf("a %v line before the end", l["type"])
		}
	}
}

// checkFailedEvents checks that failed events say what failed, and that
// the diagnostics of the failures are grouped.
func checkFailedEvents(t *testing.T, lines []map[string]any) {
	t.Helper()
	var failed, diags int
	for _, l := range lines {
		switch l["type"] {
		case "failed":
			failed++
			if l["class"] != "api" || l["code"] != float64(100) || l["name"] != "PARAM" || l["method"] != "users.getInfo" ||
				!strings.HasPrefix(l["instance"].(string), "call.info[") {
				t.Errorf("failed event = %v, want class api, code 100, name PARAM, method and instance", l)
			}
		case "diagnostic":
			diags++
		}
	}
	if failed == 0 || diags != 2 {
		t.Errorf("%d failed events and %d diagnostics, want some failed events grouped in two diagnostics", failed, diags)
	}
}

// checkSummaryAgrees checks that the summary counts the failed, skipped
// and finished events of the steps' instances, one each.
func checkSummaryAgrees(t *testing.T, lines []map[string]any) {
	t.Helper()
	events := map[string]float64{}
	var summary map[string]any
	for _, l := range lines {
		switch typ := l["type"].(string); {
		case typ == "summary":
			summary = l
		case l["from_script"] == true:
		case typ == "failed", typ == "skipped", typ == "finished":
			events[typ]++
		}
	}
	if summary == nil {
		return
	}
	for typ, count := range map[string]string{"failed": "failed", "skipped": "skipped", "finished": "ok"} {
		if events[typ] != summary[count] {
			t.Errorf("%v %s events, but the summary says %s: %v", events[typ], typ, count, summary[count])
		}
	}
}

// checkPreconditionFailed checks that a false precondition is a failed
// event of class assertion with the precondition's message, not a skip.
func checkPreconditionFailed(t *testing.T, lines []map[string]any) {
	t.Helper()
	for _, l := range lines {
		if l["step"] != "call.me" {
			continue
		}
		if l["type"] != "failed" || l["class"] != "assertion" || l["error"] != "precondition failed: min_friends must not be negative" {
			t.Errorf("call.me: %v, want a failed event of class assertion with the precondition's message", l)
		}
	}
}

// TestEventsSchemaInterrupted stops a run, as the first SIGINT does, once
// its first call has finished: the calls in flight finish, the summary
// counts what was not started, and the outputs are still the last line.
func TestEventsSchemaInterrupted(t *testing.T) {
	t.Parallel()
	s := loadSchema(t, "docs/events.schema.json")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	out := &cancelOn{match: `"type":"finished"`, cancel: stop}
	var errOut lockedBuffer
	code := runInProcess(ctx, t, nil, "", out, &errOut, "run", "-json", "-sandbox", "-sandbox-latency", "20ms",
		"-parallelism", "2", "-continue-on-error", "testdata/cli/many_failures.hcl")
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInterrupted, errOut.String())
	}
	lines := s.validateLines(t, out.String())
	checkEnds(t, lines, "outputs")
	var stopping bool
	for _, l := range lines {
		switch l["type"] {
		case "stopping":
			stopping = true
		case "summary":
			if l["not_started"].(float64) == 0 {
				t.Errorf("summary = %v, want instances not started", l)
			}
		}
	}
	if !stopping || lines[len(lines)-2]["type"] != "summary" {
		t.Errorf("want a stopping line, and the summary just before the outputs:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", errOut.String())
	}
}

// cancelOn is a writer that calls cancel once what is written holds match.
type cancelOn struct {
	lockedBuffer
	match  string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.lockedBuffer.Write(p)
	if strings.Contains(string(p), c.match) {
		c.cancel()
	}
	return n, err
}
