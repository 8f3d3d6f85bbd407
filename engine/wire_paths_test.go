package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// TestOneWireFormFromGoHCLAndLua sends the same values from a Go program
// (okru's API.Call), from a workflow's call step and from a Lua script's
// okru.call, all against the sandbox, and compares the bytes the sandbox
// received for each. The sandbox checks every signature, so a call signed
// over other text than it sent would show as error 104 instead of 0.
func TestOneWireFormFromGoHCLAndLua(t *testing.T) {
	t.Parallel()
	digits200 := strings.Repeat("1234567890", 20)
	big200, _ := new(big.Int).SetString(digits200, 10)
	tests := []struct {
		name    string
		hcl     string // an HCL expression
		lua     string // a Lua expression
		goValue any
		want    string
	}{
		{"unicode string", `"Привет, 世界 & <b> \"q\" ☃"`, `"Привет, 世界 & <b> \"q\" ☃"`, "Привет, 世界 & <b> \"q\" ☃", "Привет, 世界 & <b> \"q\" ☃"},
		{"int", `42`, `42`, 42, "42"},
		{"negative int", `-7`, `-7`, int64(-7), "-7"},
		// Lua numbers are float64: ids beyond 2^53 are strings there.
		{"beyond 2^53", `9007199254740993`, `"9007199254740993"`, int64(9007199254740993), "9007199254740993"},
		{"200-digit int", digits200, `"` + digits200 + `"`, big200, digits200},
		{"float 0.1", `0.1`, `0.1`, 0.1, "0.1"},
		{"float 1e21", `1e21`, `1e21`, 1e21, "1000000000000000000000"},
		{"float 1e-7", `1e-7`, `1e-7`, 1e-7, "0.0000001"},
		{"negative zero", `-0`, `-0`, math.Copysign(0, -1), "0"},
		{"true", `true`, `true`, true, "true"},
		{"false", `false`, `false`, false, "false"},
		{"list of ints", `[1, 2, 3]`, `{1, 2, 3}`, []int{1, 2, 3}, "1,2,3"},
		{"list of strings", `["a", "b c"]`, `{"a", "b c"}`, []string{"a", "b c"}, "a,b c"},
		{"nested lists", `[[1, 2], [3]]`, `{{1, 2}, {3}}`, [][]int{{1, 2}, {3}}, "[[1,2],[3]]"},
		{"object with a float", `{x = 1e21, y = 0.1, s = "é&<"}`, `{x = 1e21, y = 0.1, s = "é&<"}`,
			map[string]any{"x": 1e21, "y": 0.1, "s": "é&<"}, `{"s":"é&<","x":1000000000000000000000,"y":0.1}`},
		{"list of objects", `[{id = "1", n = 2}]`, `{{id = "1", n = 2}}`, []map[string]any{{"id": "1", "n": 2}}, `[{"id":"1","n":2}]`},
		{"empty list", `[]`, `{}`, []int{}, ""},
		{"empty object", `{}`, `json.object()`, map[string]any{}, "{}"},
	}

	srv := okrutest.NewServer(okrutest.Config{Seed: 3, Users: 20})
	t.Cleanup(srv.Close)
	app, demo := srv.App(), srv.DemoUser()
	newAPI := func(sc SessionConfig) (*okru.API, error) {
		sc.APIURL = srv.URL
		sess, err := NewSession(sc)
		if err != nil {
			return nil, err
		}
		return okru.New(sess, &okru.Options{Rate: okru.Unlimited}), nil
	}
	connect := func(_ context.Context, sc SessionConfig) (Caller, error) { return newAPI(sc) }
	session := fmt.Sprintf(`
session "main" {
  app_key        = %q
  app_secret_key = %q
  access_token   = %q
}
`, app.Key, app.SecretKey, demo.AccessToken)
	goAPI, err := newAPI(SessionConfig{AppKey: app.Key, AppSecretKey: app.SecretKey, AccessToken: demo.AccessToken})
	if err != nil {
		t.Fatal(err)
	}

	// One workflow holds a call step per value and a script that calls
	// once per value.
	var src, lua strings.Builder
	src.WriteString(session)
	for i, tt := range tests {
		fmt.Fprintf(&src, "call \"c%d\" {\n  method = \"users.getCurrentUser\"\n  params = { case = \"%d-hcl\", v = %s }\n}\n", i, i, tt.hcl)
		fmt.Fprintf(&lua, "    okru.call(\"users.getCurrentUser\", {case = \"%d-lua\", v = %s})\n", i, tt.lua)
	}
	fmt.Fprintf(&src, "script \"lua\" {\n  source = <<-EOT\n%s    return true\n  EOT\n}\n", lua.String())
	w := compile(t, src.String())
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: connect, Parallelism: 2})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	for i, tt := range tests {
		if _, err := goAPI.Call(t.Context(), "users.getCurrentUser", okru.Params{"case": fmt.Sprintf("%d-go", i), "v": tt.goValue}); err != nil {
			t.Fatalf("%s: Go call: %v", tt.name, err)
		}
	}

	received := map[string]okrutest.Call{}
	for _, c := range srv.Calls() {
		received[c.Params["case"]] = c
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, from := range []string{"go", "hcl", "lua"} {
				c, ok := received[fmt.Sprintf("%d-%s", i, from)]
				switch {
				case !ok:
					t.Errorf("from %s: the sandbox received no call", from)
				case c.Code != 0:
					t.Errorf("from %s: the sandbox answered error %d (104: the signature did not match the text sent)", from, c.Code)
				case c.Params["v"] != tt.want:
					t.Errorf("from %s: the sandbox received v=%q, want %q", from, c.Params["v"], tt.want)
				}
			}
		})
	}
	if t.Failed() {
		raw, _ := json.MarshalIndent(srv.Calls(), "", "  ")
		t.Logf("calls: %s", raw)
	}
}

// TestParamsWithoutWireFormFailBeforeSending checks that a workflow value
// the encoder cannot send fails naming the parameter, and that no call of
// the run goes out, not even the ones before it.
func TestParamsWithoutWireFormFailBeforeSending(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct{ params, want string }{
		"null in a list":        {`{ uids = ["1", null] }`, `Parameter uids: at [1]: null in a list`},
		"number beyond 1e10000": {`{ n = 1e20000 }`, `Parameter n: `},
		"null from a result":    {`{ uids = [call.first.result.uid, null] }`, `parameter uids[1]: null in a list`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := usersServer(t)
			w := compile(t, testSession+`
call "first" {
  method = "users.getCurrentUser"
}
call "bad" {
  method   = "users.getInfo"
  unlisted = true # the params are about encoding, not the catalog
  params   = `+tt.params+`
}
`)
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 1})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) {
				t.Fatalf("run: %v: %s; want an error mentioning %q", res.Status, diags.Error(), tt.want)
			}
			if testing.Verbose() {
				t.Log(diags.Error())
			}
			for _, c := range srv.Calls() {
				if c.Method == "users.getInfo" {
					t.Errorf("users.getInfo was sent: %v", c.Form)
				}
			}
		})
	}
}

// TestExactNumbersInResults checks that numbers in results keep every
// digit on their way to outputs and to the parameters of the next call:
// a 200-digit id and 1e400 (1 and 400 zeros, not a binary approximation).
func TestExactNumbersInResults(t *testing.T) {
	t.Parallel()
	digits200 := strings.Repeat("9876543210", 20)
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		if method == "users.getCurrentUser" {
			return json.RawMessage(`{"uid": ` + digits200 + `, "huge": 1e400, "f": 0.1, "list": [` + digits200 + `, 1e21]}`), 0
		}
		return json.RawMessage(`{}`), 0
	})
	w := compile(t, testSession+`
call "me" {
  method = "users.getCurrentUser"
}
call "next" {
  method   = "users.getInfo"
  unlisted = true # the params are about numbers, not the catalog
  params = { uids = call.me.result.list, huge = call.me.result.huge, f = call.me.result.f, obj = call.me.result }
}
output "uid"  { value = call.me.result.uid }
output "huge" { value = call.me.result.huge }
`)
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 1})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	huge := "1" + strings.Repeat("0", 400)
	outs := outputsJSON(res)
	if outs["uid"] != digits200 || outs["huge"] != huge {
		t.Errorf("outputs: uid = %s, huge = %s", outs["uid"], outs["huge"])
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	form := calls[1].Form
	want := map[string]string{
		"uids": digits200 + ",1000000000000000000000",
		"huge": huge,
		"f":    "0.1",
		"obj":  `{"f":0.1,"huge":` + huge + `,"list":[` + digits200 + `,1000000000000000000000],"uid":` + digits200 + `}`,
	}
	for k, v := range want {
		if form[k] != v {
			t.Errorf("%s sent as %.80s..., want %.80s...", k, form[k], v)
		}
	}
}
