package lua

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// TestJSONToLua decodes JSON into a script (as an okru.call result, as
// input and through json.decode), checks what Lua sees, and checks what the
// script gets back out when it returns the value unchanged.
func TestJSONToLua(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		json  string
		check string // a Lua expression over v that must be true
		out   string // the JSON the script returns for v
	}{
		{"object", `{"a": 1, "b": "x"}`, `type(v) == "table" and v.a == 1 and v.b == "x"`, `{"a":1,"b":"x"}`},
		{"array is 1-based", `[10, 20, 30]`, `#v == 3 and v[1] == 10 and v[3] == 30`, `[10,20,30]`},
		{"nested", `{"users": [{"uid": "1", "tags": ["a"]}]}`, `v.users[1].uid == "1" and v.users[1].tags[1] == "a"`, `{"users":[{"tags":["a"],"uid":"1"}]}`},
		{"top-level null", `null`, `v == nil`, `null`},
		{"null in array keeps length", `[1, null, 3]`, `#v == 3 and v[2] == json.null`, `[1,null,3]`},
		{"null member is absent", `{"a": null, "b": 1}`, `v.a == nil and v.b == 1`, `{"b":1}`},
		{"empty object stays object", `{}`, `next(v) == nil`, `{}`},
		{"empty array", `[]`, `next(v) == nil`, `[]`},
		{"object whose members were null", `{"a": null}`, `next(v) == nil`, `{}`},
		{"string", `"Привет, мир"`, `v == "Привет, мир"`, `"Привет, мир"`},
		{"string with escapes, no HTML escaping", `"a\"b<>&\n"`, `v == "a\"b<>&\n"`, `"a\"b<>&\n"`},
		{"bools", `[true, false]`, `v[1] == true and v[2] == false`, `[true,false]`},
		{"small integer", `42`, `v == 42 and type(v) == "number"`, `42`},
		{"2^53 is a number", `9007199254740992`, `type(v) == "number" and v == 2^53`, `9007199254740992`},
		{"2^53+1 is a string", `9007199254740993`, `v == "9007199254740993"`, `"9007199254740993"`},
		{"big id is a string", `12345678901234567890`, `v == "12345678901234567890"`, `"12345678901234567890"`},
		{"negative big id", `-9007199254740993`, `v == "-9007199254740993"`, `"-9007199254740993"`},
		{"big id inside object", `{"uid": 12345678901234567890, "n": 2}`, `v.uid == "12345678901234567890" and v.n == 2`, `{"n":2,"uid":"12345678901234567890"}`},
		{"whole number beyond 2^53 even if float64 holds it", `1152921504606846976`, `v == "1152921504606846976"`, `"1152921504606846976"`},
		{"decimal held by float64", `0.1`, `v == 0.1`, `0.1`},
		{"decimal float64 cannot hold", `0.10000000000000000001`, `v == "0.10000000000000000001"`, `"0.10000000000000000001"`},
		{"1.0 is the number 1", `1.0`, `v == 1`, `1`},
		{"exponent", `1.5e2`, `v == 150`, `150`},
		{"tiny exponent", `1e-7`, `v == 1e-7`, `1e-7`},
		{"400-digit id is a string", strings.Repeat("9", 400), `v == "` + strings.Repeat("9", 400) + `"`, `"` + strings.Repeat("9", 400) + `"`},
		{"smallest float64", `5e-324`, `v == 5e-324`, `5e-324`},
		{"zero with huge exponent", `0e99999999999`, `v == 0`, `0`},
		{"negative zero", `-0`, `v == 0`, `-0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := `
				local v = %s
				if not (%s) then error("check failed for " .. tostring(v)) end
				return v`
			fc := &fakeCaller{answers: map[string]string{"x.get": tt.json}}
			sources := map[string]string{
				"okru.call":   `okru.call("x.get", {})`,
				"input":       `input`,
				"json.decode": `json.decode(args[1])`,
			}
			for how, expr := range sources {
				src := strings.Replace(strings.Replace(script, "%s", expr, 1), "%s", tt.check, 1)
				got := mustRun(t, src, Options{Caller: fc, Input: decodeInput(t, tt.json), Args: []string{tt.json}})
				if got != tt.out {
					t.Errorf("%s: got %s, want %s", how, got, tt.out)
				}
			}
		})
	}
}

// TestLuaToJSON checks what each kind of Lua value becomes.
func TestLuaToJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"integer-valued float has no decimal point", `return 1.0`, `1`},
		{"fraction", `return 1.5`, `1.5`},
		{"2^53", `return 2^53`, `9007199254740992`},
		{"large", `return 1e21`, `1e+21`},
		{"small", `return 0.0000001`, `1e-7`},
		{"negative", `return -3`, `-3`},
		{"big id as string stays exact", `return "12345678901234567890"`, `"12345678901234567890"`},
		{"2^53+1 as string", `return {id = "9007199254740993"}`, `{"id":"9007199254740993"}`},
		{"empty table is an array", `return {}`, `[]`},
		{"json.object() is an object", `return json.object()`, `{}`},
		{"json.object(t) marks t", `local t = {} json.object(t) return {t = t}`, `{"t":{}}`},
		{"__json metatable field", `return setmetatable({}, {__json = "object"})`, `{}`},
		{"nested empty", `return {a = {}, b = json.object()}`, `{"a":[],"b":{}}`},
		{"sequence", `return {1, "two", true}`, `[1,"two",true]`},
		{"nested mixed", `return {users = {{uid = "1"}, {uid = "2", tags = {"x"}}}}`, `{"users":[{"uid":"1"},{"tags":["x"],"uid":"2"}]}`},
		{"keys are sorted", `return {b = 1, a = 2, c = 3}`, `{"a":2,"b":1,"c":3}`},
		{"json.null in array", `return {1, json.null, 3}`, `[1,null,3]`},
		{"json.null alone", `return json.null`, `null`},
		{"nil", `return nil`, `null`},
		{"no return", `local x = 1`, `null`},
		{"first of several values", `return 1, 2`, `1`},
		{"table built with table.insert", `local t = {} for i = 1, 3 do table.insert(t, i * i) end return t`, `[1,4,9]`},
		{"array after removing the last", `local t = {1, 2, 3} t[3] = nil return t`, `[1,2]`},
		{"shared table (not a cycle)", `local s = {1} return {a = s, b = s}`, `{"a":[1],"b":[1]}`},
		{"non-identifier keys", `return {["a b"] = 1, ["end"] = 2}`, `{"a b":1,"end":2}`},
		{"decoded object can grow", `local o = json.decode('{}') o.x = 1 return o`, `{"x":1}`},
		{"unicode", `return "日本"`, `"日本"`},
		{"html is not escaped", `return "<a href='x'>&</a>"`, `"<a href='x'>&</a>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustRun(t, tt.src, Options{}); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestLuaToJSONErrors checks that values with no JSON form fail with the
// path of the offending value.
func TestLuaToJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"hole", `return {1, nil, 3}`, `result: sparse array: index 2 is missing but the highest index is 3`},
		{"hole deep", `local t = {} t[1] = 1 t[3] = 3 return {users = {{}, t}}`, `result.users[2]: sparse array: index 2 is missing`},
		{"mixed keys", `return {1, 2, name = "x"}`, `result: table mixes string keys and array indexes`},
		{"float key", `return {a = {[1.5] = true}}`, `result.a: number key 1.5 cannot be a JSON key`},
		{"zero key", `return {[0] = 1}`, `result: number key 0 cannot be a JSON key`},
		{"boolean key", `return {[true] = 1}`, `result: boolean key cannot be a JSON key`},
		{"table key", `return {[{}] = 1}`, `result: table key cannot be a JSON key`},
		{"function", `return {f = print}`, `result.f: a function cannot be converted to JSON`},
		{"function in array", `return {users = {1, 2, function() end}}`, `result.users[3]: a function cannot be converted to JSON`},
		{"cycle", `local t = {} t.self = t return {a = t}`, `result.a.self: cycle: the table contains itself (it is result.a)`},
		{"cycle through array", `local t = {} t[1] = {t} return t`, `result[1][1]: cycle: the table contains itself (it is result)`},
		{"NaN", `return {x = 0/0}`, `result.x: NaN is not a JSON number`},
		{"inf", `return {1/0}`, `result[1]: inf is not a JSON number`},
		{"-inf", `return -1/0`, `result: -inf is not a JSON number`},
		{"invalid UTF-8", `return {name = string.sub("Иван", 1, 3)}`, `result.name: string is not valid UTF-8`},
		{"object with index", `local o = json.object() o[1] = "x" return o`, `result: table marked as a JSON object has number key 1`},
		{"odd key in path", `return {["a b"] = {f = print}}`, `result["a b"].f: a function cannot be converted`},
		{"too deep", `local t = {} for i = 1, 10001 do t = {t} end return t`, `nested deeper than 10000 levels`},
		{"json.encode error names its value", `return json.encode({f = print})`, `json.encode: value.f: a function cannot be converted`},
		{"json.object over a foreign metatable", `return json.object(setmetatable({}, {}))`, `json.object: the table already has a metatable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runScript(t, tt.src, Options{})
			se := wantError(t, err, tt.want)
			if se != nil && se.File != "test.lua" {
				t.Errorf("File = %q, want test.lua", se.File)
			}
		})
	}
}

// TestResultSizeBound checks MaxResultBytes, also for a value whose JSON
// grows exponentially because it shares tables.
func TestResultSizeBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		limit int
		want  string
	}{
		{"just over", `return {("x"):rep(30), ("y"):rep(30)}`, 64, `result: larger than the 64-byte limit (MaxResultBytes)`},
		{"shared tables", `local t = {"x"} for i = 1, 100 do t = {t, t} end return t`, 1 << 20, `result: larger than the 1 MiB limit`},
		{"json.encode", `return json.encode({("x"):rep(40), ("y"):rep(40)})`, 64, `json.encode: value: larger than the 64-byte limit`},
		{"string.rep", `return ("ab"):rep(1e12)`, 0, `string.rep: the result would be longer than the 16 MiB limit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runScript(t, tt.src, Options{MaxResultBytes: tt.limit})
			wantError(t, err, tt.want)
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		t.Parallel()
		got := mustRun(t, `return ("x"):rep(62)`, Options{MaxResultBytes: 64})
		if len(got) != 64 {
			t.Errorf("got %d bytes, want 64", len(got))
		}
	})
}

// TestParams checks how okru.call's params table reaches the Caller, and
// that okru's encoder then sends the values ok.ru expects.
func TestParams(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{}
	mustRun(t, `okru.call("mediatopic.post", {
		uids = {"1", "12345678901234567890"},
		fields = "first_name,last_name",
		count = 10,
		ratio = 0.5,
		big = 2^53,
		flag = false,
		empty = {},
		obj = json.object(),
		attachment = {media = {{type = "text", text = "hi"}}},
	})`, Options{Caller: fc})
	calls := fc.recorded()
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(calls))
	}
	wire := map[string]string{
		"uids":       "1,12345678901234567890",
		"fields":     "first_name,last_name",
		"count":      "10",
		"ratio":      "0.5",
		"big":        "9007199254740992",
		"flag":       "false",
		"empty":      "",
		"obj":        "{}",
		"attachment": `{"media":[{"text":"hi","type":"text"}]}`,
	}
	params := calls[0].Params
	if len(params) != len(wire) {
		t.Errorf("got %d params %v, want %d", len(params), params, len(wire))
	}
	for k, want := range wire {
		got, ok, err := okru.EncodeValue(params[k])
		if err != nil || !ok || got != want {
			t.Errorf("param %s = %#v encodes as %q (ok %v, err %v), want %q", k, params[k], got, ok, err, want)
		}
	}
	if n, ok := params["count"].(json.Number); !ok || n != "10" {
		t.Errorf("count = %#v, want json.Number(\"10\")", params["count"])
	}
}

func TestParamsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"array", `okru.call("users.getInfo", {"1", "2"})`, `test.lua:1: okru.call users.getInfo: params must be a table with string keys`},
		{"string", `okru.call("users.getInfo", "uids=1")`, `okru.call users.getInfo: params must be a table, not a string`},
		{"function value", `okru.call("users.getInfo", {uids = print})`, `okru.call users.getInfo: params.uids: a function cannot be converted to JSON`},
		{"hole", `okru.pcall("users.getInfo", {uids = {"1", nil, "3"}})`, `okru.pcall users.getInfo: params.uids: sparse array`},
		{"paginate", `okru.paginate("group.getMembers", {x = {[true] = 1}})`, `okru.paginate group.getMembers: params.x: boolean key`},
		{"no method", `okru.call()`, `bad argument #1`},
		{"NaN", `okru.call("users.getInfo", {uids = "1", ratio = {1, 0/0}})`, `okru.call users.getInfo: params.ratio[2]: NaN is not a JSON number`},
		{"infinity", `okru.call("users.getInfo", {n = -1/0})`, `okru.call users.getInfo: params.n: -inf is not a JSON number`},
		{"cycle", `local t = {} t.me = {t} okru.call("users.getInfo", {loop = t})`, `okru.call users.getInfo: params.loop.me[1]: cycle: the table contains itself (it is params.loop)`},
		{"number key", `okru.call("users.getInfo", {att = {[1.5] = "x"}})`, `okru.call users.getInfo: params.att: number key 1.5 cannot be a JSON key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCaller{}
			_, err := runScript(t, tt.src, Options{Caller: fc})
			wantError(t, err, tt.want)
			if n := len(fc.recorded()); n != 0 {
				t.Errorf("the Caller got %d calls, want none", n)
			}
		})
	}
}

// TestInputGoValues checks Go values a host may pass as input beyond the
// JSON family.
func TestInputGoValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input any
		want  string
	}{
		{"ints", map[string]any{"a": 1, "b": int64(9007199254740993), "c": uint64(12345678901234567890)}, `{"a":1,"b":"9007199254740993","c":"12345678901234567890"}`},
		{"floats", []any{1.5, float32(2), 1e300}, `[1.5,2,"1e+300"]`},
		{"raw JSON", json.RawMessage(`{"id": 12345678901234567890}`), `{"id":"12345678901234567890"}`},
		{"typed slice and map", map[string][]string{"ids": {"1", "2"}}, `{"ids":["1","2"]}`},
		{"int8 and pointer", []any{int8(-3), new(true)}, `[-3,true]`},
		{"nil slice", []string(nil), `null`},
		{"nil", nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustRun(t, `return input`, Options{Input: tt.input}); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}

	bad := []struct {
		name  string
		input any
		want  string
	}{
		{"channel", map[string]any{"c": make(chan int)}, `test.lua: input.c: a Go value of type chan int cannot become a Lua value`},
		{"int keys", map[int]string{1: "x"}, `input: a map with int keys cannot become a Lua table`},
		{"NaN", []any{1, map[string]any{"x": nan()}}, `input[2].x: NaN is not a JSON number`},
		{"bad raw JSON", json.RawMessage(`{`), `input: invalid JSON`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runScript(t, `return input`, Options{Input: tt.input})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestJSONDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"syntax", `return json.decode("{")`, `test.lua:1: json.decode: unexpected EOF`},
		{"trailing data", `return json.decode("1 2")`, `json.decode: unexpected data after the JSON value`},
		{"empty", `return json.decode("")`, `json.decode: no JSON value (empty input)`},
		{"not a string", `return json.decode({})`, `bad argument #1`},
		{"beyond float64", `return json.decode('{"a":[1,1e400]}')`, `json.decode: value.a[2]: 1e400 is out of the range of a Lua number (float64)`},
		{"below float64", `return json.decode("-1e-400")`, `json.decode: value: -1e-400 is out of the range of a Lua number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runScript(t, tt.src, Options{})
			wantError(t, err, tt.want)
		})
	}
	t.Run("result beyond float64", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{answers: map[string]string{"x.get": `{"n":1.5e400}`}}
		_, err := runScript(t, `return okru.call("x.get", {})`, Options{Caller: fc})
		wantError(t, err, `okru.call x.get: result.n: 1.5e400 is out of the range of a Lua number (float64)`)
	})
	t.Run("catchable", func(t *testing.T) {
		t.Parallel()
		got := mustRun(t, `local ok, err = pcall(json.decode, "nope") return {ok = ok, err = err}`, Options{})
		if !strings.HasPrefix(got, `{"err":"test.lua:1: json.decode: invalid character`) || !strings.HasSuffix(got, `"ok":false}`) {
			t.Errorf("got %s", got)
		}
	})
}
