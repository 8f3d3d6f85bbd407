package lang

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file holds the script block: a step that runs Lua. lang only reads
// the source and knows where each of its lines is written; the engine
// compiles and runs it (package lang/lua).

var scriptSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "file"}, {Name: "source"}, {Name: "input"}, {Name: "session"}, {Name: "for_each"},
		{Name: "when"}, {Name: "depends_on"}, {Name: "timeout"},
	},
	Blocks: append([]hcl.BlockHeaderSchema{{Type: "retry"}}, conditionBlocks...),
}

// ScriptMethod is what events and plans show as the method of a script
// step's own instances; the calls a script makes carry their own methods.
const ScriptMethod = "lua"

// Script is the body of a script step: Lua source, read from a file or
// written inline, and the input it gets.
type Script struct {
	// Name is the chunk name Lua errors start with: the file's path as
	// diagnostics name it ("examples/report.lua"), or the step's address
	// for inline source ("script.report").
	Name   string
	Source []byte
	// File is the file attribute as written, "" for inline source.
	File string
	// Input is the value of the Lua global input; nil without input.
	Input hcl.Expression
	// Session is the session okru.call uses when the script names none; ""
	// means the only session of the workflow.
	Session      string
	SessionRange hcl.Range
	// Args are the Lua global args and the chunk's "...": the command-line
	// arguments of okru-run script.lua. Script blocks pass data with input.
	Args []string
	// SourceRange is the value of the file or source attribute.
	SourceRange hcl.Range

	// For a heredoc, the workflow file's text and the line of its first
	// line of Lua, so that Lua positions map onto the workflow file.
	hclSource []byte
	firstLine int
}

// Method is what a step does, as events and plans name it: the API method
// of a call, ScriptMethod for a script.
func (s *Step) Method() string {
	if s.Script != nil {
		return ScriptMethod
	}
	if s.Call != nil {
		return s.Call.Method
	}
	if s.Upload != nil {
		if s.Upload.Video {
			return UploadVideoMethod
		}
		return UploadPhotosMethod
	}
	return ""
}

// Range returns where line and column (1-based, as Lua reports them; column
// 0 when unknown) of the script are written: in its .lua file, or in the
// workflow file for source in a heredoc. Other inline source (a quoted
// string, JSON) maps to the whole attribute value.
func (s *Script) Range(line, column int) hcl.Range {
	if s.File != "" {
		return lineRange(s.Name, s.Source, line, column, 0)
	}
	if s.firstLine == 0 {
		return s.SourceRange
	}
	// A <<- heredoc strips the indentation, so columns in the workflow file
	// are further right by what was stripped.
	wfLine := s.firstLine + line - 1
	shift := 0
	if lua, wf := lineText(s.Source, line), lineText(s.hclSource, wfLine); strings.HasSuffix(wf, lua) {
		shift = len(wf) - len(lua)
	}
	return lineRange(s.SourceRange.Filename, s.hclSource, wfLine, column, shift)
}

// lineRange is the range of one character of src (the whole line, without
// its indentation, when column is 0), clamped to the text.
func lineRange(filename string, src []byte, line, column, shift int) hcl.Range {
	start, end, line := lineBounds(src, line)
	from, to := start, end
	if column > 0 {
		from = min(start+shift+column-1, end)
		to = min(from+1, end)
		if to == from && from > start {
			from--
		}
	} else {
		for from < end && (src[from] == ' ' || src[from] == '\t') {
			from++
		}
	}
	pos := func(b int) hcl.Pos {
		return hcl.Pos{Line: line, Column: utf8.RuneCount(src[start:b]) + 1, Byte: b}
	}
	return hcl.Range{Filename: filename, Start: pos(from), End: pos(to)}
}

// lineBounds returns the byte offsets of line's text (without its line
// end), clamping line to the lines of src.
func lineBounds(src []byte, line int) (start, end, clamped int) {
	clamped = 1
	for clamped < line {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			break
		}
		start += i + 1
		clamped++
	}
	end = len(src)
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		end = start + i
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	return start, end, clamped
}

func lineText(src []byte, line int) string {
	start, end, got := lineBounds(src, line)
	if got != line {
		return ""
	}
	return string(src[start:end])
}

func (c *Config) decodeScript(b *hcl.Block) hcl.Diagnostics {
	st := &Step{Addr: Address{Kind: KindScript, Name: b.Labels[0]}, Kind: StepScript, Script: &Script{}, DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Steps, st, st.Addr, b, scriptSchema)
	if content == nil {
		return diags
	}
	file, hasFile := content.Attributes["file"]
	source, hasSource := content.Attributes["source"]
	switch {
	case hasFile && hasSource:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Both file and source",
			Detail:   fmt.Sprintf("%s sets both file and source; keep one: file names a .lua file in the workflow's folder, source holds the Lua code itself.", st.Addr),
			Subject:  source.NameRange.Ptr(),
		})
	case hasFile:
		diags = append(diags, c.readScriptFile(st, file)...)
	case hasSource:
		diags = append(diags, c.inlineScript(st, source)...)
	default:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing script",
			Detail:   fmt.Sprintf("%s needs its Lua code: file = \"report.lua\" (a file in the workflow's folder) or source = <<EOT ... EOT.", st.Addr),
			Subject:  b.DefRange.Ptr(),
		})
	}
	s := st.Script
	if a, ok := content.Attributes["input"]; ok {
		s.Input = a.Expr
	}
	if a, ok := content.Attributes["session"]; ok {
		session, d := staticString(a)
		s.Session = session
		diags = append(diags, d...)
		s.SessionRange = a.Expr.Range()
	}
	diags = append(diags, c.decodeStepMeta(st, content)...)
	return diags
}

// readScriptFile reads the file of a script block, below the workflow's
// folder as file() reads, and keeps it for diagnostics.
func (c *Config) readScriptFile(st *Step, a *hcl.Attribute) hcl.Diagnostics {
	s := st.Script
	s.SourceRange = a.Expr.Range()
	name, diags := staticString(a)
	if diags.HasErrors() {
		return diags
	}
	fail := func(format string, args ...any) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the script",
			Detail:   fmt.Sprintf(format, args...),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	if name == "" {
		return fail("file is empty; name a .lua file in the workflow's folder, such as \"report.lua\".")
	}
	if filepath.IsAbs(name) {
		return fail("%q is absolute; script paths are relative to the workflow's folder.", name)
	}
	data, err := readBelow(c.Dir, name)
	if err != nil {
		return fail("%s: %s. Script paths are relative to the workflow's folder and may not leave it.", name, err)
	}
	s.File = name
	s.Name = filepath.Join(c.Dir, filepath.FromSlash(name))
	s.Source = data
	c.AddSource(s.Name, data)
	return nil
}

// readBelow reads a file inside dir; the path may not leave dir, not even
// through a symbolic link (os.Root enforces that).
func readBelow(dir, name string) ([]byte, error) {
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open the workflow's folder: %s", pathErr(err))
	}
	defer root.Close()
	st, err := root.Stat(filepath.FromSlash(name))
	if err != nil {
		return nil, errors.New(pathErr(err))
	}
	if st.IsDir() {
		return nil, errors.New("it is a folder")
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxFileSize)
	}
	data, err := root.ReadFile(filepath.FromSlash(name))
	if err != nil {
		return nil, errors.New(pathErr(err))
	}
	return data, nil
}

// inlineScript takes the Lua code of a source attribute, which must be a
// literal string, usually a heredoc.
func (c *Config) inlineScript(st *Step, a *hcl.Attribute) hcl.Diagnostics {
	s := st.Script
	s.Name = st.Addr.String()
	s.SourceRange = a.Expr.Range()
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid source",
			Detail:   "source must be a literal string of Lua code, usually a heredoc (source = <<EOT ... EOT). It may not refer to anything: give values to the script with input. Write $${ and %%{ for a literal ${ and %{ in the Lua code.",
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	s.Source = []byte(v.AsString())
	rng := a.Expr.Range()
	if f := c.files[rng.Filename]; f != nil && bytes.HasPrefix(f.Bytes[min(rng.Start.Byte, len(f.Bytes)):], []byte("<<")) {
		// The heredoc's text starts on the line after its <<EOT marker.
		s.hclSource, s.firstLine = f.Bytes, rng.Start.Line+1
	}
	return nil
}

// JSON renders a wholly known value as compact JSON with exact numbers (a
// big id stays every digit), the form a script's input takes. Marks are
// ignored: the caller decides what to do with sensitive values.
func JSON(v cty.Value) (json.RawMessage, error) {
	if !v.IsWhollyKnown() {
		return nil, errors.New("the value is not known yet")
	}
	return appendJSON(nil, v, jsonWire), nil
}

// EnvSessionName is the session okru-run script.lua declares from the
// environment when it is given no --config.
const EnvSessionName = "default"

// EnvSessionFile is the name diagnostics give the session read from the
// environment.
const EnvSessionFile = "(environment)"

// envSession is the session okru-run script.lua reads from OKRU_*
// variables, written as a user would write it, so that a diagnostic about
// it shows where each credential comes from.
const envSession = `session "default" {
  app_id             = env("OKRU_APP_ID")
  app_key            = env("OKRU_APP_KEY")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  session_secret_key = env("OKRU_SESSION_SECRET_KEY")
  refresh_token      = env("OKRU_REFRESH_TOKEN")
  api_url            = env("OKRU_API_URL")
  rate_limit         = env("OKRU_RATE_LIMIT")
}
`

// ScriptRun describes what okru-run script.lua runs.
type ScriptRun struct {
	Path    string        // the .lua file
	Args    []string      // the script's arguments
	Timeout time.Duration // bounds the whole script; 0 for none
	// Config is a .hcl file or folder (--config) whose session, variable
	// and locals blocks are used; "" for none.
	Config string
	// EnvSession declares session "default" from the OKRU_* environment
	// variables. It is ignored with a Config.
	EnvSession bool
	// Session is the session okru.call uses when the script names none;
	// "" means the only one.
	Session string
}

// LoadScriptRun builds the workflow okru-run script.lua runs: the sessions,
// variables and locals of r.Config (its other blocks are ignored with a
// warning) or the session from the environment, one script step named
// after the file (script.report for report.lua) and an output "result"
// holding the script's return value.
func LoadScriptRun(r ScriptRun) (*Config, hcl.Diagnostics) {
	c := newConfig(filepath.Dir(r.Path))
	var diags hcl.Diagnostics
	switch {
	case r.Config != "":
		files, dir, d := workflowFiles(r.Config)
		if d.HasErrors() {
			return c, d
		}
		c.Dir = dir
		bodies, d := c.parseFiles(files)
		if d.HasErrors() {
			return c, d
		}
		diags = append(diags, d...)
		for _, f := range bodies {
			diags = append(diags, c.decodeFile(f.Body, true)...)
		}
	case r.EnvSession:
		f, d := hclparse.NewParser().ParseHCL([]byte(envSession), EnvSessionFile)
		if d.HasErrors() {
			return c, d
		}
		c.files[EnvSessionFile] = f
		diags = append(diags, c.decodeFile(f.Body, false)...)
	}

	src, err := os.ReadFile(r.Path)
	if err != nil {
		return c, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the script",
			Detail:   fmt.Sprintf("%s: %s.", r.Path, pathErr(err)),
		})
	}
	c.AddSource(r.Path, src)
	start := hcl.Range{Filename: r.Path, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: 1, Byte: 0}}
	st := &Step{
		Addr:      Address{Kind: KindScript, Name: scriptStepName(r.Path)},
		Kind:      StepScript,
		Timeout:   r.Timeout,
		Script:    &Script{Name: r.Path, File: r.Path, Source: src, Args: r.Args, Session: r.Session, SourceRange: start},
		DeclRange: start,
	}
	diags = append(diags, c.declare(st.Addr, st, start)...)
	c.Steps = append(c.Steps, st)
	result := hcl.Traversal{
		hcl.TraverseRoot{Name: string(KindScript), SrcRange: start},
		hcl.TraverseAttr{Name: st.Addr.Name, SrcRange: start},
		hcl.TraverseAttr{Name: "result", SrcRange: start},
	}
	out := &Output{Name: "result", Value: &hclsyntax.ScopeTraversalExpr{Traversal: result, SrcRange: start}, DeclRange: start}
	diags = append(diags, c.declare(Address{Kind: KindOutput, Name: out.Name}, out, start)...)
	c.Outputs = append(c.Outputs, out)
	if diags.HasErrors() {
		return c, diags
	}
	return c, append(diags, c.checkReferences()...)
}

// scriptStepName names the step of okru-run script.lua after its file:
// script.report for report.lua.
func scriptStepName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := []byte(base)
	for i, c := range name {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			name[i] = '_'
		}
	}
	s := string(name)
	if !isIdentifier(s) {
		s = "_" + s
	}
	if !isIdentifier(s) {
		return "script"
	}
	return s
}
