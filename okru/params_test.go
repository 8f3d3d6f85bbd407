package okru_test

import (
	"encoding/json"
	"math"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// shade is a named string whose String is for people, as an enum's is.
type shade string

func (s shade) String() string { return "the shade " + string(s) }

// ratio is a named float without a String method.
type ratio float64

// TestEncodeValueKindBeforeString checks that a value of a named basic type
// is sent by its value, not by its String method, that other Stringers are
// sent by String, and that a time.Time is refused rather than guessed at.
func TestEncodeValueKindBeforeString(t *testing.T) {
	t.Parallel()
	code := okru.CodeParamSessionExpired
	when := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var nilCode *okru.Code
	var nilInt *big.Int
	tests := []struct {
		name    string
		v       any
		want    string
		notSent bool
		err     string
	}{
		{name: "code", v: okru.CodeParamSessionExpired, want: "102"},
		{name: "pointer to a code", v: &code, want: "102"},
		{name: "list of codes", v: []okru.Code{okru.CodeParamSessionExpired, okru.CodeParam}, want: "102,100"},
		{name: "named string with String", v: shade("red"), want: "red"},
		{name: "named float", v: ratio(0.5), want: "0.5"},
		{name: "json number", v: json.Number("500000462248"), want: "500000462248"},
		{name: "big int", v: new(big.Int).Lsh(big.NewInt(1), 70), want: "1180591620717411303424"},
		{name: "ip address", v: net.IPv4(10, 0, 0, 1), want: "10.0.0.1"},
		{name: "nil pointer to a code", v: nilCode, notSent: true},
		{name: "nil big int", v: nilInt, notSent: true},
		{name: "time", v: when, err: "t.Unix()"},
		{name: "pointer to a time", v: &when, err: "t.Unix()"},
		{name: "list of times", v: []time.Time{when}, err: "time.Time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := okru.EncodeValue(tt.v)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("EncodeValue = %q, %v, %v; want an error mentioning %q", got, ok, err, tt.err)
				}
			case tt.notSent:
				if err != nil || ok {
					t.Fatalf("EncodeValue = %q, %v, %v; want it not sent", got, ok, err)
				}
			default:
				if err != nil || !ok || got != tt.want {
					t.Fatalf("EncodeValue = %q, %v, %v; want %q", got, ok, err, tt.want)
				}
			}
		})
	}
}

// digits200 is a 200-digit integer: more digits than float64 or cty's
// default 512-bit numbers hold.
var digits200 = strings.Repeat("1234567890", 20)

// upper is a named string with its own JSON form.
type upper string

func (u upper) MarshalJSON() ([]byte, error) { return json.Marshal(strings.ToUpper(string(u))) }

// attachment is a struct sent as JSON by encoding/json's field rules.
type attachment struct {
	Kind  string  `json:"type"`
	Ratio float64 `json:"ratio"`
	Skip  string  `json:"skip,omitempty"`
}

// TestEncodeValueWireRules checks the one wire form of every kind of
// value: exact plain numbers wherever they are, comma lists of scalars,
// JSON for nested values, and errors for what has no wire form.
func TestEncodeValueWireRules(t *testing.T) {
	t.Parallel()
	big200, _ := new(big.Int).SetString(digits200, 10)
	float400, _, _ := big.ParseFloat("1e400", 10, 1400, big.ToNearestEven)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	cyclicList := []any{1, nil}
	cyclicList[1] = cyclicList
	tests := []struct {
		name string
		v    any
		want string
		err  string
	}{
		{name: "unicode string", v: "Привет, 世界 & <b>", want: "Привет, 世界 & <b>"},
		{name: "int", v: 42, want: "42"},
		{name: "negative int8", v: int8(-5), want: "-5"},
		{name: "beyond 2^53", v: int64(9007199254740993), want: "9007199254740993"},
		{name: "max uint64", v: uint64(18446744073709551615), want: "18446744073709551615"},
		{name: "200-digit big int", v: big200, want: digits200},
		{name: "200-digit json number", v: json.Number(digits200), want: digits200},
		{name: "200-digit big float", v: new(big.Float).SetInt(big200), want: digits200},
		{name: "1e400 big float", v: float400, want: "1" + strings.Repeat("0", 400)},
		{name: "float 0.1", v: 0.1, want: "0.1"},
		{name: "float32 0.1", v: float32(0.1), want: "0.1"},
		{name: "float 1e21", v: 1e21, want: "1000000000000000000000"},
		{name: "float 1e-7", v: 1e-7, want: "0.0000001"},
		{name: "whole float", v: 3.0, want: "3"},
		{name: "negative zero", v: math.Copysign(0, -1), want: "0"},
		{name: "json number 1e21", v: json.Number("1e21"), want: "1000000000000000000000"},
		{name: "json number 1.50e1", v: json.Number("1.50e1"), want: "15"},
		{name: "json number -0.0", v: json.Number("-0.0"), want: "0"},
		{name: "json number 12.5e-3", v: json.Number("12.5e-3"), want: "0.0125"},
		{name: "true", v: true, want: "true"},
		{name: "false", v: false, want: "false"},
		{name: "empty string", v: "", want: ""},
		{name: "list of ints", v: []int{1, 2, 3}, want: "1,2,3"},
		{name: "list of any", v: []any{"a", 1e21, true, json.Number("2")}, want: "a,1000000000000000000000,true,2"},
		{name: "nested lists", v: []any{[]any{1, 2}, []any{3}}, want: "[[1,2],[3]]"},
		{name: "typed nested lists", v: [][]int{{1, 2}, {3}}, want: "[[1,2],[3]]"},
		{name: "list of objects", v: []map[string]any{{"id": "1"}}, want: `[{"id":"1"}]`},
		{name: "object with a float", v: map[string]any{"x": 1e21, "y": 0.1}, want: `{"x":1000000000000000000000,"y":0.1}`},
		{name: "object keys sorted", v: map[string]int{"b": 2, "a": 1}, want: `{"a":1,"b":2}`},
		{name: "object with null", v: map[string]any{"n": nil, "l": []any{nil, 1}}, want: `{"l":[null,1],"n":null}`},
		{name: "object with escapes", v: map[string]any{"t": "a&b<c>\"\\\n\u2028é"}, want: `{"t":"a&b<c>\"\\\n\u2028é"}`},
		{name: "empty list", v: []any{}, want: ""},
		{name: "empty object", v: map[string]any{}, want: "{}"},
		{name: "struct", v: attachment{Kind: "photo", Ratio: 1e21}, want: `{"type":"photo","ratio":1000000000000000000000}`},
		{name: "raw json", v: json.RawMessage(`{ "b": 1E21, "a": [ 1.0 ] }`), want: `{"b":1000000000000000000000,"a":[1]}`},
		{name: "big numbers inside an object", v: map[string]any{"i": big200, "f": float400, "l": []any{new(big.Float).SetFloat64(0.5)}},
			want: `{"f":1` + strings.Repeat("0", 400) + `,"i":` + digits200 + `,"l":[0.5]}`},
		{name: "own JSON inside an object", v: map[string]any{"m": upper("a"), "ip": net.IPv4(10, 0, 0, 1)}, want: `{"ip":"10.0.0.1","m":"A"}`},
		{name: "code inside an object", v: map[string]any{"c": okru.CodeParam}, want: `{"c":100}`},
		{name: "time inside an object", v: map[string]any{"t": time.Unix(0, 0)}, err: `at ["t"]: a time.Time`},
		{name: "NaN", v: math.NaN(), err: "NaN"},
		{name: "infinity", v: math.Inf(1), err: "+Inf"},
		{name: "NaN in a list", v: []float64{1, math.NaN()}, err: "at [1]: NaN"},
		{name: "NaN in an object", v: map[string]any{"a": []any{map[string]any{"b": math.NaN()}}}, err: `at ["a"][0]["b"]: NaN`},
		{name: "infinite big float", v: new(big.Float).SetInf(false), err: "+Inf"},
		{name: "map with int keys", v: map[int]string{1: "a"}, err: "keys"},
		{name: "nested map with int keys", v: []any{map[int]string{1: "a"}}, err: "at [0]: a map with int keys"},
		{name: "cycle", v: cyclic, err: `at ["self"]: the value contains itself`},
		{name: "cyclic list", v: []any{cyclicList}, err: "contains itself"},
		{name: "null in a comma list", v: []any{"1", nil}, err: "at [1]: null in a list"},
		{name: "not a number", v: json.Number("12abc"), err: "not a number"},
		{name: "huge exponent", v: json.Number("1e999999999999"), err: "out of range"},
		{name: "bad UTF-8 in JSON", v: map[string]string{"a": "\xff"}, err: "UTF-8"},
		{name: "channel", v: map[string]any{"c": make(chan int)}, err: "chan int"},
		{name: "bad raw json", v: json.RawMessage(`{"a":`), err: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := okru.EncodeValue(tt.v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("EncodeValue = %q, %v, %v; want an error mentioning %q", got, ok, err, tt.err)
				}
				return
			}
			if err != nil || !ok || got != tt.want {
				t.Fatalf("EncodeValue = %q, %v, %v; want %q", got, ok, err, tt.want)
			}
		})
	}
}

// TestPlainNumberMatchesFloats checks that a float64 and the text
// encoding/json writes for it have one wire form.
func TestPlainNumberMatchesFloats(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0.1, 1e21, 1e22, 1.5e300, 5e-324, -2.5e-8, 123456.789, 1 << 53, math.MaxFloat64} {
		text, _ := json.Marshal(f)
		fromText, err := okru.PlainNumber(string(text))
		if err != nil {
			t.Fatal(err)
		}
		fromFloat, _, err := okru.EncodeValue(f)
		if err != nil || fromText != fromFloat {
			t.Errorf("%v: json %s → %q, float → %q (%v)", f, text, fromText, fromFloat, err)
		}
	}
}

// TestCallRefusesBadParamsBeforeSending checks that a value with no wire
// form fails the call with the parameter's name, and nothing is sent.
func TestCallRefusesBadParamsBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	api := sandboxAPI(srv, nil)
	cyclic := map[string]any{}
	cyclic["me"] = []any{cyclic}
	for name, params := range map[string]okru.Params{
		`parameter ratio: NaN`:                     {"uid": "1", "ratio": math.NaN()},
		`parameter attachment["media"][0]: a map`:  {"uid": "1", "attachment": map[string]any{"media": []any{map[int]int{1: 1}}}},
		`parameter loop["me"][0]: the value conta`: {"uid": "1", "loop": cyclic},
	} {
		_, err := api.Call(t.Context(), "users.getInfo", params)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v; want one mentioning %q", err, name)
		}
	}
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("the sandbox received %d calls; want none", len(calls))
	}
}
