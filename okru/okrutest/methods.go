package okrutest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/okru-run/okru-run/okru"
)

// methodSpec says how the sandbox emulates one API method. Specs are
// registered by the per-area files (users.go, friends.go, ...) in init
// functions, so adding an area is adding a file.
type methodSpec struct {
	// handle computes the result from the graph and the server state. It
	// runs after every check passed; it returns an *apiError for ok.ru
	// errors. ctx is the request's: it ends when the client goes away.
	handle func(ctx context.Context, inv *invocation) (any, error)
	// required parameters answer PARAM (100) naming the first one missing
	// or empty. Only for methods whose catalog row lists no parameters
	// (unofficial ones such as auth.login): for the others the catalog's
	// Required is what counts, so the sandbox enforces no more than the
	// catalog says (TestSandboxRequiredOnlyWhereCatalogSilent checks).
	required []string
	// session overrides the catalog's session rule, for methods the catalog
	// does not list or marks "unknown"; "" keeps the catalog's rule.
	session okru.SessionRule
	// unsigned methods (auth.login) take no sig and no token: they are
	// how a client gets its first session.
	unsigned bool
}

// methodTable maps method names to their emulation. It is filled by init
// functions and only read afterwards.
var methodTable = map[string]methodSpec{}

// registerMethod adds an emulated method. It panics on a duplicate, which is
// a programming error found by any test.
func registerMethod(name string, spec methodSpec) {
	if _, dup := methodTable[name]; dup {
		panic("okrutest: method registered twice: " + name)
	}
	if spec.handle == nil {
		panic("okrutest: method without handler: " + name)
	}
	methodTable[name] = spec
}

// apiError is an ok.ru error answer.
type apiError struct {
	code okru.Code
	msg  string // the text after "NAME : "
}

func (e *apiError) Error() string { return e.code.Name() + " : " + e.msg }

func errorf(code okru.Code, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// missingParams returns the required parameters the call lacks: the
// catalog's, or the spec's where the catalog lists no parameters.
func (inv *invocation) missingParams(cat okru.Method) []string {
	if len(cat.Params) > 0 || len(inv.spec.required) == 0 {
		return cat.MissingParams(inv.params)
	}
	var out []string
	for _, name := range inv.spec.required {
		if inv.params[name] == "" {
			out = append(out, name)
		}
	}
	return out
}

func missingParam(name string) *apiError {
	return errorf(okru.CodeParam, "Missing required parameter %s", name)
}

func invalidParam(name, why string) *apiError {
	return errorf(okru.CodeParam, "Invalid parameter %s: %s", name, why)
}

// invocation is one authenticated call on its way to a handler.
type invocation struct {
	srv     *Server
	method  string
	spec    methodSpec
	params  map[string]string
	token   string   // the access token sent, "" without a session
	sess    *session // nil without a session
	user    int32    // the session's user, -1 without a session
	circuit string
}

func (inv *invocation) graph() *graph { return inv.srv.graph }

// floodKey names the flood bucket of the call: its token, or the
// application for calls without a session.
func (inv *invocation) floodKey() string {
	if inv.token != "" {
		return inv.token
	}
	return "app:" + inv.srv.app.Key
}

func (inv *invocation) param(name string) string { return inv.params[name] }

// list splits a comma-separated parameter, dropping empty items.
func (inv *invocation) list(name string) []string {
	var out []string
	for item := range strings.SplitSeq(inv.params[name], ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// intParam reads an integer parameter in [lo, hi], def when absent.
func (inv *invocation) intParam(name string, def, lo, hi int) (int, error) {
	s, ok := inv.params[name]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, invalidParam(name, fmt.Sprintf("want an integer from %d to %d, got %q", lo, hi, s))
	}
	return n, nil
}

// subject returns the user a call is about: the first of the named
// parameters that is set, else the session's user. Session-less calls must
// name the user.
func (inv *invocation) subject(names ...string) (int32, error) {
	for _, n := range names {
		if uid := inv.params[n]; uid != "" {
			return inv.userByID(n, uid)
		}
	}
	if inv.user >= 0 {
		return inv.user, nil
	}
	return 0, missingParam(names[0])
}

// userByID resolves a user id given in parameter name.
func (inv *invocation) userByID(name, uid string) (int32, error) {
	if !isID(uid) {
		return 0, invalidParam(name, fmt.Sprintf("%q is not a user id", uid))
	}
	u, ok := inv.graph().lookupUser(uid)
	if !ok {
		return 0, errorf(okru.CodeParamUserID, "Invalid user id %s", uid)
	}
	return u, nil
}

// groupByID resolves a group id given in parameter name.
func (inv *invocation) groupByID(name, gid string) (int32, error) {
	if !isID(gid) {
		return 0, invalidParam(name, fmt.Sprintf("%q is not a group id", gid))
	}
	g, ok := inv.graph().lookupGroup(gid)
	if !ok {
		return 0, errorf(okru.CodeParamGroupID, "Invalid group id %s", gid)
	}
	return g, nil
}

// isID reports whether s looks like an ok.ru id: decimal digits only.
func isID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fieldSet is the set of requested fields, lower-cased: ok.ru accepts field
// names in either case (the docs write them upper-case, answers use lower).
type fieldSet map[string]bool

func (inv *invocation) fields(name string, def ...string) fieldSet {
	items := inv.list(name)
	if len(items) == 0 {
		items = def
	}
	fs := make(fieldSet, len(items))
	for _, f := range items {
		fs[strings.ToLower(f)] = true
	}
	return fs
}

// idStrings returns the uids of users, in order.
func (g *graph) idStrings(users []int32) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = g.users[u].uid
	}
	return out
}

// has reports whether the session was granted scope.
func (s *session) has(scope string) bool { return s.scopes[scope] }
