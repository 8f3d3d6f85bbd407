package main

import (
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/okru-run/okru-run/lang"
)

// sensitiveInputs returns the values given to sensitive variables with
// -var, -var-file and OKRU_VAR_, as written (and unquoted), so that the
// diagnostics of resolving them can hide them, snippets included.
func sensitiveInputs(cfg *lang.Config, getenv func(string) string, varFiles, vars []string) []string {
	sensitive := map[string]bool{}
	for _, v := range cfg.Variables {
		if v.Sensitive {
			sensitive[v.Name] = true
		}
	}
	if len(sensitive) == 0 {
		return nil
	}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		out = append(out, s)
		if u := strings.Trim(s, `"`); u != s {
			out = append(out, u)
		}
	}
	for name := range sensitive {
		if getenv != nil {
			add(getenv(lang.EnvVarPrefix + name))
		}
	}
	for _, kv := range vars {
		if name, raw, ok := strings.Cut(kv, "="); ok && sensitive[name] {
			add(raw)
		}
	}
	for _, path := range varFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if lang.CheckNesting(path, src).HasErrors() {
			continue // loading the file reports it
		}
		f, _ := hclparse.NewParser().ParseHCL(src, path)
		if f == nil {
			continue
		}
		attrs, _ := f.Body.JustAttributes()
		for name, a := range attrs {
			if sensitive[name] {
				add(string(a.Expr.Range().SliceBytes(src)))
			}
		}
	}
	return out
}
