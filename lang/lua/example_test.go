package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
)

func ExampleRun() {
	src := []byte(`
		local total = 0
		for _, n in ipairs(input.counts) do total = total + n end
		return {total = total, ids = {input.id}, empty = {}, object = json.object()}`)
	out, err := lua.Run(context.Background(), "sum.lua", src, lua.Options{
		// As the engine decodes JSON: numbers are json.Number, so the big id
		// reaches Lua as the string "12345678901234567890".
		Input: map[string]any{"counts": []any{json.Number("1"), json.Number("2.5")}, "id": json.Number("12345678901234567890")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output: {"empty":[],"ids":["12345678901234567890"],"object":{},"total":3.5}
}

// friendsCaller answers friends.get for the session "main" and fails every
// other method with PARAM_SESSION_EXPIRED, as a real Caller would pass on
// ok.ru's error.
type friendsCaller struct{}

func (friendsCaller) Call(_ context.Context, session, method string, _ map[string]any) (json.RawMessage, error) {
	if method == "friends.get" {
		return json.RawMessage(`["1", "2", "12345678901234567890"]`), nil
	}
	return nil, &okru.Error{Method: method, Code: okru.CodeParamSessionExpired, Msg: "PARAM_SESSION_EXPIRED : Session expired"}
}

func (friendsCaller) Pages(context.Context, string, string, map[string]any) iter.Seq2[json.RawMessage, error] {
	return func(func(json.RawMessage, error) bool) {}
}

func (friendsCaller) Sessions() []string { return []string{"main"} }

func ExampleScript_Run() {
	s, err := lua.Compile("report.lua", []byte(`
		local friends = okru.call("friends.get", {}, "main")
		local _, err = okru.pcall("users.getInfo", {uids = friends, fields = "name"})
		log("users.getInfo failed:", err.name, err.code)
		local groups = okru.call("group.getUserGroupsV2", {})
		return groups`))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Run(context.Background(), lua.Options{
		Caller: friendsCaller{},
		Log:    func(msg string) { fmt.Println("log:", msg) },
	})
	fmt.Println(err)
	var apiErr *okru.Error
	if errors.As(err, &apiErr) {
		fmt.Println("code:", int(apiErr.Code), "method:", apiErr.Method)
	}
	// Output:
	// log: users.getInfo failed: PARAM_SESSION_EXPIRED 102
	// report.lua:5: call group.getUserGroupsV2: PARAM_SESSION_EXPIRED (102): Session expired
	// code: 102 method: group.getUserGroupsV2
}

func ExampleCheck() {
	err := lua.Check("report.lua", []byte("local x = 1\nif x then\n  return x +\nend"))
	var syntax *lua.SyntaxError
	if errors.As(err, &syntax) {
		fmt.Println(syntax.Line, syntax.Column)
	}
	fmt.Println(err)
	// Output:
	// 4 1
	// report.lua:4:1: syntax error near 'end'
}
