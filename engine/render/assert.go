package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
)

// How plans show assertions: true, false with the message it would
// fail with, or (known after call.NAME) for those known only after a call.

// AssertionText is a planned assertion's value for people.
func AssertionText(a engine.PlannedAssertion) string {
	switch {
	case !a.Value.IsKnown():
		return lang.FormatValue(a.Value, 0)
	case a.Value.True():
		return "true"
	case a.Message != "":
		return "false: " + a.Message
	}
	return "false"
}

// planChecks writes the check blocks of a text plan.
func planChecks(w io.Writer, checks []engine.PlannedCheck) {
	if len(checks) == 0 {
		return
	}
	fmt.Fprintln(w, "Checks:")
	for _, c := range checks {
		for _, a := range c.Asserts {
			fmt.Fprintf(w, "  %s: assert = %s\n", c.Addr, AssertionText(a))
		}
	}
	fmt.Fprintln(w)
}

// jsonAssertion is the wire form of a planned assertion.
type jsonAssertion struct {
	Kind    string          `json:"kind"`
	Value   json.RawMessage `json:"value"`
	Message string          `json:"message,omitempty"`
}

func jsonAssertions(as []engine.PlannedAssertion) []jsonAssertion {
	var out []jsonAssertion
	for _, a := range as {
		out = append(out, jsonAssertion{Kind: a.Kind, Value: lang.DisplayJSON(a.Value), Message: a.Message})
	}
	return out
}

// planChecks writes a "check" line per check block of a plan.
func (j *JSON) planChecks(checks []engine.PlannedCheck) {
	for _, c := range checks {
		j.write(struct {
			Type    string          `json:"type"`
			Check   string          `json:"check"`
			Module  string          `json:"module,omitempty"`
			Asserts []jsonAssertion `json:"asserts"`
		}{"check", c.Name, c.Addr.Module, jsonAssertions(c.Asserts)})
	}
}
