package okru

import (
	_ "embed"
	"slices"
	"strings"
	"sync"

	"github.com/agext/levenshtein"
)

// The catalog is data/methods.tsv, a copy of the project's shared method
// list, plus the rules of data/method-rules.tsv (rules.go). It is gathered
// from public SDKs and documentation and is known to be incomplete, so a
// method missing from it may still exist: callers send unknown methods to
// the server and use Suggest only to help with typos.
//
//go:embed data/methods.tsv
var methodsTSV string

// SessionRule says whether a method needs a user session (an access token).
type SessionRule string

// Session rules of the catalog.
const (
	SessionRequired   SessionRule = "required"   // fails with 453 without a token
	SessionOptional   SessionRule = "optional"   // works with or without a token
	SessionProhibited SessionRule = "prohibited" // fails with 451 with a token; signed with the app secret
	SessionUnknown    SessionRule = "unknown"    // not documented
)

// PagingStyle names the parameters a list method pages with.
type PagingStyle string

// Paging styles of the catalog.
const (
	PagingNone   PagingStyle = ""       // no paging
	PagingAnchor PagingStyle = "anchor" // anchor, direction, count; answers anchor and has_more
	PagingPaging PagingStyle = "paging" // pagingAnchor, pagingDirection, count
)

// Method describes one API method of the catalog.
type Method struct {
	Name        string      // "group.getMembers"
	Status      string      // documented, documented-elsewhere, unofficial, legacy, retired
	Session     SessionRule // whether a user session is needed
	Permissions []string    // scopes of which the token needs any one (see PermissionsFor)
	Params      []string    // documented parameter names, without the common ones
	Paging      PagingStyle

	// The rules below come from data/method-rules.tsv.

	// Required parameters: ok.ru answers PARAM (100) when one is absent or
	// empty. A method may have required parameters the catalog does not
	// know of.
	Required []string
	// ExternalNeedsSession marks methods whose session is optional, "but
	// required for External applications" (apiok.ru): an external
	// application, the usual kind, must call them with a session.
	ExternalNeedsSession bool
	// Conditional permissions are needed on top of Permissions when the
	// call's parameters match, as mediatopic.post with gid needs
	// GROUP_CONTENT.
	Conditional []ConditionalPermission
	// FieldPermissions gate fields of the answer: without the permission
	// the field is left out, and the call does not fail.
	FieldPermissions []FieldPermission
}

// Group returns the part of the name before the dot ("group").
func (m Method) Group() string { g, _, _ := strings.Cut(m.Name, "."); return g }

// Verb returns the part of the name after the dot ("getMembers").
func (m Method) Verb() string { _, v, _ := strings.Cut(m.Name, "."); return v }

// ReadOnly reports whether calling the method changes nothing on the server,
// judged from its verb. Only read-only methods are retried after a request
// may have reached the server; anything else counts as a write.
func (m Method) ReadOnly() bool { return readOnlyVerb(m.Verb()) }

// HasParam reports whether name is a documented parameter of the method.
func (m Method) HasParam(name string) bool { return slices.Contains(m.Params, name) }

var readOnlyPrefixes = []string{"get", "is", "has", "check", "search", "are", "find", "list", "count"}

func readOnlyVerb(verb string) bool {
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(verb, p) && (len(verb) == len(p) || isUpper(verb[len(p)])) {
			return true
		}
	}
	return false
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// IsReadOnly reports whether the named method is known to change nothing.
// Methods missing from the catalog are judged by their verb alone.
func IsReadOnly(method string) bool {
	_, verb, _ := strings.Cut(method, ".")
	return readOnlyVerb(verb)
}

var catalog = sync.OnceValues(func() ([]Method, map[string]int) {
	var list []Method
	for line := range strings.SplitSeq(methodsTSV, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			panic("okru: malformed catalog row: " + line)
		}
		m := Method{Name: f[0], Status: f[1], Session: SessionRule(f[2]), Permissions: splitList(f[3]), Params: splitList(f[4])}
		if f[5] != "-" {
			m.Paging = PagingStyle(f[5])
		}
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b Method) int { return strings.Compare(a.Name, b.Name) })
	index := make(map[string]int, len(list))
	for i, m := range list {
		index[m.Name] = i
	}
	rules, err := parseRules(rulesTSV)
	if err != nil {
		panic("okru: " + err.Error())
	}
	for _, r := range rules {
		i, ok := index[r.Name]
		if !ok {
			panic("okru: data/method-rules.tsv names " + r.Name + ", which is not in data/methods.tsv")
		}
		m := &list[i]
		m.Required, m.ExternalNeedsSession, m.Conditional, m.FieldPermissions = r.Required, r.ExternalNeedsSession, r.Conditional, r.FieldPermissions
	}
	return list, index
})

func splitList(s string) []string {
	if s == "-" || s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Methods returns every method of the catalog, sorted by name.
func Methods() []Method {
	list, _ := catalog()
	return slices.Clone(list)
}

// LookupMethod returns the catalog entry of the named method.
func LookupMethod(name string) (Method, bool) {
	list, index := catalog()
	i, ok := index[name]
	if !ok {
		return Method{}, false
	}
	return list[i], true
}

// Suggest returns up to three catalog method names close to name, closest
// first, for "did you mean" messages. The comparison ignores case.
func Suggest(name string) []string {
	list, _ := catalog()
	type scored struct {
		name string
		dist int
	}
	lower := strings.ToLower(name)
	limit := max(2, len(name)/3)
	var found []scored
	for _, m := range list {
		d := levenshtein.Distance(lower, strings.ToLower(m.Name), nil)
		if d <= limit {
			found = append(found, scored{m.Name, d})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return a.dist - b.dist })
	var out []string
	for i := 0; i < len(found) && i < 3; i++ {
		out = append(out, found[i].name)
	}
	return out
}
