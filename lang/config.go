package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Config is a loaded workflow: the declarations of every file, in the order
// they were written, with the files kept for printing diagnostics.
type Config struct {
	// Dir is the workflow's folder: file() reads below it.
	Dir string
	// LuaDir is the folder whose lua folder holds the Lua libraries that
	// require and lua:: functions find: the workflow's folder, or the
	// script's for okru-run script.lua.
	LuaDir string
	// LuaPath are more folders of libraries, searched after LuaDir's
	// (-lua-path); each confines its own libraries.
	LuaPath []string

	Variables []*Variable
	Locals    []*Local
	Sessions  []*Session
	Steps     []*Step
	Outputs   []*Output
	Checks    []*Check      // see assert.go
	Modules   []*ModuleCall // see module.go

	files map[string]*hcl.File
	byKey map[Address]any
}

// Files returns the parsed source files by name, for
// hcl.NewDiagnosticTextWriter to print source snippets.
func (c *Config) Files() map[string]*hcl.File { return c.files }

// AddSource registers text that is not a workflow file, such as a -var
// value, so diagnostics about it can show a snippet.
func (c *Config) AddSource(name string, src []byte) {
	c.files[name] = &hcl.File{Bytes: src}
}

// Variable returns the variable called name, or nil.
func (c *Config) Variable(name string) *Variable {
	v, _ := c.byKey[Address{Kind: KindVariable, Name: name}].(*Variable)
	return v
}

// Local returns the local value called name, or nil.
func (c *Config) Local(name string) *Local {
	v, _ := c.byKey[Address{Kind: KindLocal, Name: name}].(*Local)
	return v
}

// Session returns the session called name, or nil.
func (c *Config) Session(name string) *Session {
	v, _ := c.byKey[Address{Kind: KindSession, Name: name}].(*Session)
	return v
}

// Step returns the step at addr (call.NAME), or nil.
func (c *Config) Step(addr Address) *Step {
	v, _ := c.byKey[addr].(*Step)
	return v
}

// Variable is a variable block: an input of the workflow.
type Variable struct {
	Name        string
	Type        cty.Type           // cty.DynamicPseudoType when not constrained
	Defaults    *typeexpr.Defaults // defaults of optional object attributes, or nil
	Default     cty.Value          // cty.NilVal when the variable is required
	Description string
	Sensitive   bool
	Validations []*Validation
	DeclRange   hcl.Range
}

// Required reports whether the variable has no default.
func (v *Variable) Required() bool { return v.Default == cty.NilVal }

// Validation is a validation block of a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one attribute of a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	Refs      []Reference
	DeclRange hcl.Range
}

// Session is a session block: the credentials and options of one API
// client. Its attributes are evaluated once, before any call, so they may
// refer to variables and locals but not to steps.
type Session struct {
	Name      string
	Attrs     map[string]*hcl.Attribute // by attribute name; see SessionAttributes
	Refs      []Reference
	DeclRange hcl.Range
}

// SessionAttribute describes one attribute of a session block.
type SessionAttribute struct {
	Name      string
	Sensitive bool // a credential: never shown
	Number    bool // a number rather than a string
	Doc       string
}

// SessionAttributes are the attributes a session block accepts. Credentials
// are sensitive whatever the variable they come from says.
var SessionAttributes = []SessionAttribute{
	{Name: "app_id", Doc: "application id (needed by OAuth logins and token refresh)"},
	{Name: "app_key", Doc: "application public key"},
	{Name: "app_secret_key", Sensitive: true, Doc: "application secret key (server-server circuit, app-signed methods)"},
	{Name: "access_token", Sensitive: true, Doc: "the user's access token"},
	{Name: "session_secret_key", Sensitive: true, Doc: "the session secret key issued with the token (client-server circuit)"},
	{Name: "refresh_token", Sensitive: true, Doc: "a refresh token, to renew an expired access token"},
	{Name: "api_url", Doc: "API base URL (default https://api.ok.ru/)"},
	{Name: "rate_limit", Number: true, Doc: "calls per second this session may make, or \"unlimited\" (default: 3)"},
	{Name: "circuit", Doc: `signature circuit: "auto" (default), "server", "client" or "app"`},
}

// IsSensitiveSessionAttribute reports whether the named session attribute
// holds a credential.
func IsSensitiveSessionAttribute(name string) bool {
	for _, a := range SessionAttributes {
		if a.Name == name {
			return a.Sensitive
		}
	}
	// password and the other login fields are credentials too.
	return name == "password"
}

// StepKind is the kind of a step block.
type StepKind string

// Step kinds: an API call, or a Lua script (see script.go). Both take the
// same meta-arguments.
const (
	StepCall   StepKind = "call"
	StepScript StepKind = "script"
	StepUpload StepKind = "upload"
)

// Step is a block that does something when the workflow runs: a call or a
// script. The meta-arguments (for_each, when, depends_on, retry, timeout)
// are common to every kind of step.
type Step struct {
	Addr      Address
	Kind      StepKind
	ForEach   hcl.Expression // nil without for_each
	When      hcl.Expression // nil without when
	DependsOn []Reference
	Retry     *Retry        // nil without a retry block
	Timeout   time.Duration // 0: none beyond the client's
	Call      *Call         // the body of a call step
	Script    *Script       // the body of a script step
	Upload    *Upload       // the body of an upload step
	Refs      []Reference   // every reference of the step's expressions
	// Preconditions and Postconditions are the step's assertions (see
	// assert.go).
	Preconditions, Postconditions []*Condition
	DeclRange                     hcl.Range
}

// Call is the body of a call step.
type Call struct {
	Method       string
	MethodRange  hcl.Range
	Params       hcl.Expression // nil without params
	Session      string         // "" means the only session
	SessionRange hcl.Range
	Paginate     bool
	// Unlisted allows a method missing from the catalog.
	Unlisted bool
}

// Retry is a retry block: it replaces the client's retry policy for one
// call. Which failures are retried stays the client's rule (transient and
// throttle codes, network failures, and a write only when its request
// surely never reached the server).
type Retry struct {
	Attempts   int           // total attempts, the first included, at least 1
	Backoff    time.Duration // cap of the first wait, doubling after each; 0: the client's default
	MaxBackoff time.Duration // cap of every wait; 0: the client's default
	DeclRange  hcl.Range
}

// Output is an output block: a value printed at the end of a run.
type Output struct {
	Name        string
	Value       hcl.Expression
	Sensitive   bool
	Description string
	Refs        []Reference
	DeclRange   hcl.Range
}
