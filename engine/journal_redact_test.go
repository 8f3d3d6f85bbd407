package engine

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// A short sensitive value is redacted as a whole token, which may be a
// piece of JSON syntax: a PIN of "42" is also the number in {"uid":"42"}
// and in a write's parameters. The journal's records stay valid JSON, the
// write is sent once and recorded, and the PIN is not in the file.
func TestJournalShortSecretKeepsRecordsValid(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, batchSource+`
variable "pin" {
  type      = string
  sensitive = true
}
`)
	path := statePath(t)
	in := Inputs{Variables: vars("n", cty.NumberIntVal(1))}
	in.Variables["pin"] = lang.Sensitive(cty.StringVal("42"))
	if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not JSON: %s", i+1, line)
		}
	}
	if strings.Contains(string(b), `"42"`) || strings.Contains(string(b), " 42\"") {
		t.Errorf("the journal holds the PIN:\n%s", b)
	}
	st, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if e, ok := st.Lookup("call.post[0]"); !ok || e.Kind != state.KindDone || !e.Redacted {
		t.Errorf("call.post[0] = %+v, %v; want done, its result redacted", e, ok)
	}
	if n := len(srv.Calls()); n != 3 {
		t.Errorf("%d calls, want 3 (me, one read, one post)", n)
	}
}

func TestRedactJSONStaysValid(t *testing.T) {
	t.Parallel()
	j := &journal{secrets: []string{"42", "Secret&Pass"}}
	for raw, want := range map[string]string{
		`{"n":42,"s":"x"}`:                 `"{\"n\":[REDACTED],\"s\":\"x\"}"`,
		`{"n":"42"}`:                       `{"n":"[REDACTED]"}`,
		`{"p":"Secret\u0026Pass","n":420}`: `{"p":"[REDACTED]","n":420}`,
		`[1,2]`:                            `[1,2]`,
	} {
		got := j.redactJSON([]byte(raw))
		if string(got) != want || !json.Valid(got) {
			t.Errorf("redactJSON(%s) = %s, want %s", raw, got, want)
		}
	}
}
