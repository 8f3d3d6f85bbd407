package okru

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// scopes is the one list of permission names: the OAuth scopes of ok.ru's
// documentation plus LIKE, which like.like and the photo methods ask for.
// The sandbox grants exactly these, and every permission the catalog names
// is one of them (a test checks).
var scopes = []string{
	ScopeValuableAccess, ScopeLongAccessToken, ScopePhotoContent, ScopeGroupContent, ScopeVideoContent,
	ScopeAppInvite, ScopeGetEmail, ScopeSetStatus, ScopePublishNote, ScopeLike,
}

// Scopes returns the permission names a login may ask for, in the order of
// ok.ru's documentation.
func Scopes() []string { return slices.Clone(scopes) }

// SplitScopes splits a scope list as people and clients write it: names
// separated by ";" (ok.ru's own), "," or spaces. A separator with no name
// before it (";;", a trailing ";") gives an empty name, which CheckScopes
// refuses, as ok.ru does; a list of nothing but spaces gives no name.
func SplitScopes(list string) []string {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) && list[i] != ';' && list[i] != ',' {
			continue
		}
		names := strings.Fields(list[start:i])
		if len(names) == 0 {
			names = []string{""}
		}
		out = append(out, names...)
		start = i + 1
	}
	return out
}

// ScopeProblem says what is wrong with a scope list.
type ScopeProblem string

// Problems of a scope list.
const (
	ScopeUnknown  ScopeProblem = "unknown"  // a name ok.ru does not know
	ScopeEmpty    ScopeProblem = "empty"    // an empty name, as in "A;;B" or "A;"
	ScopeRepeated ScopeProblem = "repeated" // a name listed twice
)

// ScopeError is a scope list that CheckScopes refused. The login functions
// check their list before any request: ok.ru would answer invalid_scope
// only after the user typed a password.
type ScopeError struct {
	Scope      string // the name at fault; "" for an empty one
	Position   int    // its position in the list, from 1
	Problem    ScopeProblem
	Suggestion string // for an unknown name, the known one it most likely meant, or ""
}

func (e *ScopeError) Error() string {
	switch e.Problem {
	case ScopeEmpty:
		return fmt.Sprintf("name %d of the scope list is empty; separate names with one \";\"", e.Position)
	case ScopeRepeated:
		return fmt.Sprintf("the scope list names %s twice", e.Scope)
	}
	var msg string
	if shownScope(e.Scope) {
		msg = fmt.Sprintf("unknown scope %q", e.Scope)
	} else {
		// Not the shape of a scope: likely something pasted into the
		// wrong place, maybe a secret, so it is not repeated.
		msg = fmt.Sprintf("name %d of the scope list is not a scope (scopes are upper-case words joined by _)", e.Position)
	}
	if e.Suggestion != "" {
		return msg + "; did you mean " + e.Suggestion + "?"
	}
	return msg + "; known scopes: " + strings.Join(scopes, ";")
}

// shownScope reports whether an unknown name may be repeated in an error:
// only words of letters and "_", never something that looks like a token
// or a key.
func shownScope(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}

// CheckScopes checks a list of permissions to ask for: each name must be
// one of Scopes, not empty and not repeated. An empty list is valid: it
// asks for no permission. The error is a *ScopeError about the first name
// at fault.
func CheckScopes(list []string) error {
	for i, name := range list {
		switch {
		case name == "":
			return &ScopeError{Position: i + 1, Problem: ScopeEmpty}
		case !slices.Contains(scopes, name):
			return &ScopeError{Scope: name, Position: i + 1, Problem: ScopeUnknown, Suggestion: suggestScope(name)}
		case slices.Contains(list[:i], name):
			return &ScopeError{Scope: name, Position: i + 1, Problem: ScopeRepeated}
		}
	}
	return nil
}

// suggestScope returns the known scope a mistyped name most likely meant:
// the same name in other case, the one it begins, or the closest within a
// few edits; "" when none is close.
func suggestScope(name string) string {
	up := strings.ToUpper(name)
	if len(up) >= 4 {
		for _, sc := range scopes {
			if strings.HasPrefix(sc, up) {
				return sc
			}
		}
	}
	best, bestDist := "", max(2, len(up)/3)+1
	for _, sc := range scopes {
		if d := levenshtein.Distance(up, sc, nil); d < bestDist {
			best, bestDist = sc, d
		}
	}
	return best
}
