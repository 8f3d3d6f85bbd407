package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestRunAssertions runs a workflow with a precondition, postconditions on
// a call and on a script, and a check, with inputs that make each fail in
// turn: what is called, the status, the failure's error and the checks.
func TestRunAssertions(t *testing.T) {
	t.Parallel()
	const src = testSession + `
variable "min" { type = number }
variable "allow" { type = bool }

call "me" {
  method = "users.getCurrentUser"
  precondition {
    condition     = var.allow
    error_message = "calls are not allowed"
  }
  postcondition {
    condition     = tonumber(self.result.uid) >= var.min
    error_message = "uid ${self.result.uid} is below ${var.min}"
  }
}

script "double" {
  input  = { uid = call.me.result.uid }
  source = "return tonumber(input.uid) * 2"
  postcondition {
    condition     = self.result == tonumber(call.me.result.uid) * 2
    error_message = "the script does not double"
  }
}

check "big" {
  assert {
    condition     = script.double.result > 100
    error_message = "the double is small"
  }
}
`
	tests := []struct {
		name       string
		min        int64
		allow      bool
		strict     bool
		wantStatus Status
		wantCalls  int
		wantErr    string // the AssertionError's text, "" for none
		wantCheck  CheckResult
	}{
		{name: "all hold, check warns", min: 1, allow: true, wantStatus: StatusOK, wantCalls: 1,
			wantCheck: CheckResult{Name: "big", Failed: []string{"the double is small"}}},
		{name: "strict check fails the run", min: 1, allow: true, strict: true, wantStatus: StatusFailed, wantCalls: 1,
			wantCheck: CheckResult{Name: "big", Failed: []string{"the double is small"}}},
		{name: "precondition skips the call", min: 1, allow: false, wantStatus: StatusFailed, wantCalls: 0,
			wantErr: "precondition failed: calls are not allowed", wantCheck: CheckResult{Name: "big", Skipped: true}},
		{name: "postcondition fails after the call", min: 100, allow: true, wantStatus: StatusFailed, wantCalls: 1,
			wantErr: "postcondition failed: uid 42 is below 100", wantCheck: CheckResult{Name: "big", Skipped: true}},
	}
	handle := func(method string, form map[string]string) (any, int) { return map[string]any{"uid": "42"}, 0 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, handle)
			rec := &recorder{}
			in := Inputs{Variables: vars("min", cty.NumberIntVal(tt.min), "allow", cty.BoolVal(tt.allow))}
			res, diags := compile(t, src).Run(t.Context(), in,
				Options{Connect: srv.connector(), Observer: rec, StrictChecks: tt.strict})
			if res.Status != tt.wantStatus {
				t.Fatalf("status = %v, want %v: %s", res.Status, tt.wantStatus, diags.Error())
			}
			if got := len(srv.Calls()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			var gotErr string
			for _, e := range rec.events {
				if ae, ok := errors.AsType[*AssertionError](e.Err); ok {
					gotErr = ae.Error()
					if e.Type != EventFailed || e.Step.Name != "double" && e.Step.Name != "me" {
						t.Errorf("the %s is reported by a %s event of %s, want a failed event of its instance", ae.Kind, e.Type, e.Step)
					}
				}
				if e.Type == EventSkipped && e.Reason != "script.double failed" && e.Reason != "call.me failed" {
					t.Errorf("skipped event of %s: %q", e.Step, e.Reason)
				}
			}
			if gotErr != tt.wantErr {
				t.Errorf("assertion error = %q, want %q", gotErr, tt.wantErr)
			}
			if len(res.Checks) != 1 || res.Checks[0].Name != tt.wantCheck.Name || res.Checks[0].Skipped != tt.wantCheck.Skipped ||
				strings.Join(res.Checks[0].Failed, "|") != strings.Join(tt.wantCheck.Failed, "|") {
				t.Errorf("checks = %+v, want [%+v]", res.Checks, tt.wantCheck)
			}
			wantSeverity := hcl.DiagWarning
			if tt.strict {
				wantSeverity = hcl.DiagError
			}
			for _, d := range diags {
				if d.Summary == "Assert failed" && d.Severity != wantSeverity {
					t.Errorf("check diagnostic severity = %v, want %v", d.Severity, wantSeverity)
				}
			}
		})
	}
}

// TestPlanAssertions checks what a plan knows of each assertion: a
// precondition on variables is known, a postcondition only after its call.
func TestPlanAssertions(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
variable "allow" { type = bool }
call "me" {
  method = "users.getCurrentUser"
  precondition {
    condition     = var.allow
    error_message = "not allowed"
  }
  postcondition {
    condition     = self.result.uid != ""
    error_message = "no uid"
  }
}
check "c" {
  assert {
    condition     = call.me.result.uid != var.allow
    error_message = "never"
  }
}
`)
	p, diags := w.Plan(t.Context(), Inputs{Variables: vars("allow", cty.False)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	as := p.Steps[0].Instances[0].Assertions
	if len(as) != 2 || !as[0].Value.IsKnown() || as[0].Value.True() || as[0].Message != "not allowed" {
		t.Errorf("precondition = %+v, want known false with its message", as)
	}
	if len(as) == 2 && as[1].Value.IsKnown() {
		t.Errorf("postcondition = %#v, want unknown", as[1].Value)
	}
	if len(p.Checks) != 1 || p.Checks[0].Asserts[0].Value.IsKnown() {
		t.Errorf("checks = %+v, want one unknown assert", p.Checks)
	}
}
