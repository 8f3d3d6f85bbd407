package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/okru-run/okru-run/okru"
)

func init() {
	register("methods", "list the API methods of the catalog: methods [PREFIX]", cmdMethods)
}

func cmdMethods(_ context.Context, env *cliEnv, args []string) int {
	var jsonOut bool
	fs := newFlagSet(env, "methods", "methods [-json] [PREFIX]")
	fs.BoolVar(&jsonOut, "json", false, "one JSON object per method")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintln(env.stderr, "okru-run methods: at most one prefix, such as users. or group.get")
		return exitInvalid
	}
	prefix := ""
	if len(pos) == 1 {
		prefix = strings.ToLower(pos[0])
	}
	var found []okru.Method
	for _, m := range okru.Methods() {
		if strings.HasPrefix(strings.ToLower(m.Name), prefix) {
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		msg := fmt.Sprintf("okru-run methods: no method starts with %q", pos[0])
		if s := okru.Suggest(pos[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", s[0])
		}
		fmt.Fprintln(env.stderr, msg)
		return exitInvalid
	}
	if jsonOut {
		enc := json.NewEncoder(env.stdout)
		for _, m := range found {
			_ = enc.Encode(map[string]any{
				"name": m.Name, "status": m.Status, "session": m.Session,
				"external_app_session": m.SessionFor(true),
				"permissions":          nonNil(m.Permissions), "permissions_when": ruleStrings(m.Conditional),
				"field_permissions": ruleStrings(m.FieldPermissions),
				"params":            nonNil(m.Params), "required": nonNil(m.Required), "paging": string(m.Paging),
			})
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tSESSION\tPERMISSIONS\tREQUIRED\tPAGING")
	for _, m := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, sessionText(m), permissionsText(m), dash(strings.Join(m.Required, ",")), dash(string(m.Paging)))
	}
	_ = tw.Flush()
	return exitOK
}

// sessionText is the SESSION column: the catalog's rule, or "external" for
// a session that is optional but required of external applications.
func sessionText(m okru.Method) string {
	if m.ExternalNeedsSession && m.Session == okru.SessionOptional {
		return "external"
	}
	return string(m.Session)
}

// permissionsText is the PERMISSIONS column: any one of the catalog's list,
// then the permissions that depend on parameters or gate fields, as the
// rules table writes them (gid:GROUP_CONTENT, email:GET_EMAIL).
func permissionsText(m okru.Method) string {
	parts := slices.Clone(m.Permissions)
	parts = append(parts, ruleStrings(m.Conditional)...)
	parts = append(parts, ruleStrings(m.FieldPermissions)...)
	return dash(strings.Join(parts, ","))
}

func ruleStrings[T fmt.Stringer](rules []T) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
