package main

import (
	"context"
	"encoding/json"
	"fmt"
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
				"permissions": nonNil(m.Permissions), "params": nonNil(m.Params), "paging": string(m.Paging),
			})
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tSESSION\tPERMISSIONS\tPAGING")
	for _, m := range found {
		paging := string(m.Paging)
		if paging == "" {
			paging = "-"
		}
		perms := strings.Join(m.Permissions, ",")
		if perms == "" {
			perms = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Session, perms, paging)
	}
	_ = tw.Flush()
	return exitOK
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
