package okru

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// The rules table, data/method-rules.tsv, says what methods.tsv cannot:
// required parameters, sessions required of external applications, and
// permissions that depend on parameters or gate fields of the answer. It
// is kept apart from methods.tsv, which is a byte-for-byte copy of the
// project's shared catalog.
//
//go:embed data/method-rules.tsv
var rulesTSV string

// ConditionalPermission is a permission a call needs when its parameters
// match: Param is sent and not empty (AnyValue), or sent as exactly Value.
type ConditionalPermission struct {
	Param      string
	Value      string
	AnyValue   bool
	Permission string
}

// Applies reports whether the condition holds for the call's parameters.
func (c ConditionalPermission) Applies(params map[string]string) bool {
	v, ok := params[c.Param]
	if c.AnyValue {
		return ok && v != ""
	}
	return ok && v == c.Value
}

// String returns the rule as the rules table writes it:
// "gid:GROUP_CONTENT" or "type=USER_STATUS:SET_STATUS".
func (c ConditionalPermission) String() string {
	if c.AnyValue {
		return c.Param + ":" + c.Permission
	}
	return c.Param + "=" + c.Value + ":" + c.Permission
}

// FieldPermission is a field of a method's answer that is left out unless
// the token has Permission, as users.getCurrentUser's email needs
// GET_EMAIL.
type FieldPermission struct {
	Field      string
	Permission string
}

// String returns the rule as the rules table writes it: "email:GET_EMAIL".
func (f FieldPermission) String() string { return f.Field + ":" + f.Permission }

// SessionFor returns the session rule that applies to an application:
// for an external one, a method marked ExternalNeedsSession requires a
// session.
func (m Method) SessionFor(external bool) SessionRule {
	if external && m.ExternalNeedsSession {
		return SessionRequired
	}
	return m.Session
}

// MissingParams returns the required parameters that params lacks or
// leaves empty, in the catalog's order.
func (m Method) MissingParams(params map[string]string) []string {
	var out []string
	for _, name := range m.Required {
		if params[name] == "" {
			out = append(out, name)
		}
	}
	return out
}

// PermissionsFor returns what a token needs to call the method with
// params: any one of anyOf (the catalog's list; whether ok.ru wants all of
// them is not documented, so the permissive reading is taken) and every
// one of allOf (the conditional permissions whose condition holds).
func (m Method) PermissionsFor(params map[string]string) (anyOf, allOf []string) {
	for _, c := range m.Conditional {
		if c.Applies(params) && !slices.Contains(allOf, c.Permission) {
			allOf = append(allOf, c.Permission)
		}
	}
	return m.Permissions, allOf
}

// MissingPermission returns a permission a token with the granted scopes
// lacks for a call with params, and "" when it has what it needs. When no
// permission of the catalog's list is granted, the answer names them all,
// joined with " or ".
func (m Method) MissingPermission(params map[string]string, granted func(scope string) bool) string {
	anyOf, allOf := m.PermissionsFor(params)
	if len(anyOf) > 0 && !slices.ContainsFunc(anyOf, granted) {
		return strings.Join(anyOf, " or ")
	}
	for _, p := range allOf {
		if !granted(p) {
			return p
		}
	}
	return ""
}

// FieldAllowed reports whether the answer may carry field for a token
// with the granted scopes.
func (m Method) FieldAllowed(field string, granted func(scope string) bool) bool {
	for _, f := range m.FieldPermissions {
		if strings.EqualFold(f.Field, field) && !granted(f.Permission) {
			return false
		}
	}
	return true
}

// parseRules reads the rules table. It checks the table's own shape; the
// catalog checks that each method exists.
func parseRules(text string) ([]Method, error) {
	var out []Method
	seen := map[string]bool{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("data/method-rules.tsv line %d: want 6 tab-separated columns, got %d", n+1, len(f))
		}
		m := Method{Name: f[0], Required: splitList(f[1])}
		if seen[m.Name] {
			return nil, fmt.Errorf("data/method-rules.tsv line %d: %s is listed twice", n+1, m.Name)
		}
		seen[m.Name] = true
		switch f[2] {
		case "external":
			m.ExternalNeedsSession = true
		case "-":
		default:
			return nil, fmt.Errorf("data/method-rules.tsv line %d: session is %q, want external or -", n+1, f[2])
		}
		for _, item := range splitList(f[3]) {
			cond, perm, ok := cutLast(item, ":")
			if !ok || cond == "" || !isScopeName(perm) {
				return nil, fmt.Errorf("data/method-rules.tsv line %d: %q is not CONDITION:PERMISSION", n+1, item)
			}
			c := ConditionalPermission{Permission: perm}
			if name, value, hasValue := strings.Cut(cond, "="); hasValue {
				c.Param, c.Value = name, value
			} else {
				c.Param, c.AnyValue = cond, true
			}
			m.Conditional = append(m.Conditional, c)
		}
		for _, item := range splitList(f[4]) {
			field, perm, ok := strings.Cut(item, ":")
			if !ok || field == "" || !isScopeName(perm) {
				return nil, fmt.Errorf("data/method-rules.tsv line %d: %q is not FIELD:PERMISSION", n+1, item)
			}
			m.FieldPermissions = append(m.FieldPermissions, FieldPermission{Field: field, Permission: perm})
		}
		out = append(out, m)
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// isScopeName reports whether s looks like an ok.ru permission name:
// upper-case letters, digits and underscores.
func isScopeName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
