package lang

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

func TestValueFromJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string // want is DisplayJSON of the value
	}{
		{"big id stays exact", `{"uid": 12345678901234567890}`, `{"uid":12345678901234567890}`},
		{"string ids", `["1","2"]`, `["1","2"]`},
		{"fractions", `[0.1, 1e3, -2.5]`, `[0.1,1000,-2.5]`},
		{"nested and null", `{"a":{"b":[true,null,{}]},"c":[]}`, `{"a":{"b":[true,null,{}]},"c":[]}`},
		{"bare string", `"ok"`, `"ok"`},
		{"unicode", `{"name":"Татьяна"}`, `{"name":"Татьяна"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ValueFromJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(DisplayJSON(v)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a":1} x`} {
		if _, err := ValueFromJSON([]byte(bad)); err == nil {
			t.Errorf("ValueFromJSON(%q) succeeded, want an error", bad)
		}
	}
}

// wire sends v through GoValue and okru's encoder, as the engine does.
func wire(t *testing.T, v cty.Value) (string, bool, error) {
	t.Helper()
	g, err := GoValue(v)
	if err != nil {
		return "", false, err
	}
	return okru.EncodeValue(g)
}

func TestBigIDRoundTripsToWire(t *testing.T) {
	t.Parallel()
	v, err := ValueFromJSON([]byte(`{"uid": 12345678901234567890, "ids": [9007199254740993, 2], "long": ` + digits200 + `}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"uid": "12345678901234567890", "ids": "9007199254740993,2", "long": digits200} {
		if got, _, err := wire(t, v.GetAttr(name)); got != want || err != nil {
			t.Errorf("%s sent as %q, %v; want %q", name, got, err, want)
		}
	}
}

var digits200 = strings.Repeat("9876543210", 20)

func TestGoValue(t *testing.T) {
	t.Parallel()
	obj := cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal("text"), "n": cty.NumberIntVal(1)})
	tests := []struct {
		name string
		in   cty.Value
		want string
		ok   bool
	}{
		{"string as is", cty.StringVal("a b,c"), "a b,c", true},
		{"integer without point", cty.NumberIntVal(100), "100", true},
		{"fraction", cty.NumberFloatVal(0.5), "0.5", true},
		{"1e21 in plain digits", cty.MustParseNumberVal("1e21"), "1000000000000000000000", true},
		{"negative zero", cty.NumberVal(new(big.Float).Neg(new(big.Float))), "0", true},
		{"bools", cty.False, "false", true},
		{"list joined", cty.ListVal([]cty.Value{cty.StringVal("1"), cty.StringVal("2")}), "1,2", true},
		{"tuple of numbers", cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)}), "1,2", true},
		{"nested tuples as JSON", cty.TupleVal([]cty.Value{
			cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)}),
			cty.TupleVal([]cty.Value{cty.NumberIntVal(3)})}), "[[1,2],[3]]", true},
		{"empty list", cty.ListValEmpty(cty.String), "", true},
		{"empty object", cty.EmptyObjectVal, "{}", true},
		{"object as JSON", obj, `{"n":1,"type":"text"}`, true},
		{"list of objects as JSON", cty.TupleVal([]cty.Value{obj}), `[{"n":1,"type":"text"}]`, true},
		{"null not sent", cty.NullVal(cty.String), "", false},
		{"JSON text sent unescaped", cty.ObjectVal(map[string]cty.Value{
			"a&b": cty.StringVal(`<i>"q"</i> & é`)}), `{"a&b":"<i>\"q\"</i> & é"}`, true},
		{"sensitive still sent", Sensitive(cty.StringVal("pw")), "pw", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := wire(t, tt.in)
			if err != nil || got != tt.want || ok != tt.ok {
				t.Errorf("sent %q, %v, %v; want %q, %v", got, ok, err, tt.want, tt.ok)
			}
		})
	}
	if _, err := GoValue(cty.UnknownVal(cty.String)); err == nil {
		t.Error("an unknown value was converted")
	}
	if _, _, err := wire(t, cty.TupleVal([]cty.Value{cty.StringVal("1"), cty.NullVal(cty.String)})); err == nil {
		t.Error("a list with a null was sent")
	}
}

// TestParseNumberExact checks that whole numbers keep every digit, in
// results and in number literals, and that 1e400 is 1 and 400 zeros.
func TestParseNumberExact(t *testing.T) {
	t.Parallel()
	for _, text := range []string{digits200, "-" + digits200, "1e400", "123456789012345678901234567890e150"} {
		v, err := ParseNumber(text)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := okru.PlainNumber(text)
		if got := NumberText(v.AsBigFloat()); got != want {
			t.Errorf("%.20s...: NumberText = %.60s..., want %.60s...", text, got, want)
		}
		if got := string(DisplayJSON(v)); got != want {
			t.Errorf("%.20s...: DisplayJSON = %.60s..., want %.60s...", text, got, want)
		}
	}
	for _, text := range []string{"0.1", "2.5", "1e-7"} {
		v, err := ParseNumber(text)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := okru.PlainNumber(text); NumberText(v.AsBigFloat()) != want {
			t.Errorf("%s: NumberText = %s", text, NumberText(v.AsBigFloat()))
		}
	}
	if _, err := ParseNumber("1e1001"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("1e1001: %v; want out of range", err)
	}
	expr, diags := hclsyntax.ParseExpression([]byte("{ id = "+digits200+", neg = -"+digits200+", e = 1e400, f = 0.1 }"), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ExactNumbers(expr, []byte("{ id = "+digits200+", neg = -"+digits200+", e = 1e400, f = 0.1 }"))
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, want := range map[string]string{"id": digits200, "neg": "-" + digits200, "e": "1" + strings.Repeat("0", 400), "f": "0.1"} {
		if got, _, err := wire(t, v.GetAttr(name)); got != want || err != nil {
			t.Errorf("literal %s sent as %.60s..., %v; want %.60s...", name, got, err, want)
		}
	}
}

func TestFormatValueHidesAndMarks(t *testing.T) {
	t.Parallel()
	v := cty.ObjectVal(map[string]cty.Value{
		"token": Sensitive(cty.StringVal("s3cret")),
		"ids":   UnknownAfter(cty.DynamicPseudoType, Address{Kind: KindCall, Name: "members"}),
		"n":     cty.NumberIntVal(3),
		"quote": cty.StringVal(`a "b" ${c}`),
	})
	got := FormatValue(v, 0)
	want := "{\n  ids   = (known after call.members)\n  n     = 3\n  quote = \"a \\\"b\\\" $${c}\"\n  token = (sensitive)\n}"
	if got != want {
		t.Errorf("FormatValue =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(string(DisplayJSON(v)), "s3cret") {
		t.Error("DisplayJSON shows a sensitive value")
	}
}

func TestFileFunctionStaysInFolder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "wf")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "sub", "msg.txt"), []byte("hello"), 0o644))
	must(os.WriteFile(filepath.Join(root, "outside.txt"), []byte("secret"), 0o644))
	must(os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(dir, "link.txt")))
	scope := Scope{Dir: dir, Getenv: func(k string) string { return map[string]string{"HOME_DIR": "/home/x"}[k] }}
	ctx := &hcl.EvalContext{Functions: scope.Functions()}
	tests := []struct {
		expr, want, err string
	}{
		{expr: `file("sub/msg.txt")`, want: "hello"},
		{expr: `file("../outside.txt")`, err: "may not leave"},
		{expr: `file("link.txt")`, err: "may not leave"},
		{expr: `file("/etc/passwd")`, err: "absolute"},
		{expr: `file("missing.txt")`, err: "no such file"},
		{expr: `env("HOME_DIR")`, want: "/home/x"},
		{expr: `env("UNSET", "fallback")`, want: "fallback"},
		{expr: `coalesce(env("UNSET"), "null when unset")`, want: "null when unset"},
		{expr: `tostring(index(["a", "b"], "b"))`, want: "1"},
		{expr: `tostring(sum([1, 2, 3.5]))`, want: "6.5"},
		{expr: `try(jsondecode("{"), "bad json")`, want: "bad json"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			e, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			v, diags := e.Value(ctx)
			if tt.err != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.err) {
					t.Errorf("got %#v, %v; want an error with %q", v, diags, tt.err)
				}
				return
			}
			if diags.HasErrors() || v.AsString() != tt.want {
				t.Errorf("got %#v, %v; want %q", v, diags, tt.want)
			}
		})
	}
}

func FuzzValueFromJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `12345678901234567890`, `"x"`, `[true,false]`,
		digits200, `1e400`, `-1.5e300`, `-0`, `0.1`, `1e-400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ValueFromJSON(data)
		if err != nil {
			return
		}
		// A whole number keeps every digit, however written.
		if text := strings.TrimSpace(string(data)); v.Type() == cty.Number {
			if plain, err := okru.PlainNumber(text); err == nil && !strings.Contains(plain, ".") && string(DisplayJSON(v)) != plain {
				t.Fatalf("%s became %s", text, DisplayJSON(v))
			}
		}
		// What decodes must re-encode and decode to the same value.
		again, err := ValueFromJSON(DisplayJSON(v))
		if err != nil {
			t.Fatalf("re-decode %s: %v", DisplayJSON(v), err)
		}
		if string(DisplayJSON(again)) != string(DisplayJSON(v)) {
			t.Fatalf("round trip changed %s into %s", DisplayJSON(v), DisplayJSON(again))
		}
	})
}

// TestExactNumberVariables checks that a number variable keeps every
// digit from -var, the environment, a -var-file and its default.
func TestExactNumberVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	varFile := filepath.Join(dir, "vars.hcl")
	if err := os.WriteFile(varFile, []byte("from_file = "+digits200+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := LoadSource("test.hcl", []byte(`
variable "from_flag" { type = number }
variable "from_env"  { type = number }
variable "from_file" { type = number }
variable "default"   {
  type    = number
  default = -`+digits200+`
}
`), dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vals, diags := cfg.ResolveVariables(Inputs{
		Vars:     []string{"from_flag=" + digits200},
		Getenv:   func(name string) string { return map[string]string{"OKRU_VAR_from_env": digits200}[name] },
		VarFiles: []string{varFile},
	}, Scope{Dir: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, want := range map[string]string{"from_flag": digits200, "from_env": digits200, "from_file": digits200, "default": "-" + digits200} {
		if got, _, err := wire(t, vals[name]); got != want || err != nil {
			t.Errorf("var.%s sent as %.60s..., %v", name, got, err)
		}
	}
}

// TestToNumberExact checks that tonumber keeps every digit of a string
// and otherwise behaves as cty's conversion.
func TestToNumberExact(t *testing.T) {
	t.Parallel()
	fn := exactToNumber()
	for _, tt := range []struct {
		name string
		in   cty.Value
		want string // DisplayJSON of the result, or an error's text
	}{
		{"long id", cty.StringVal(digits200), digits200},
		{"number", cty.NumberIntVal(5), "5"},
		{"fraction", cty.StringVal("0.25"), "0.25"},
		{"null", cty.NullVal(cty.String), "null"},
		{"unknown", cty.UnknownVal(cty.String), `"(known after run)"`},
		{"sensitive", Sensitive(cty.StringVal("12")), `"(sensitive)"`},
		{"not a number", cty.StringVal("abc"), `cannot convert "abc" to number`},
		{"bool", cty.True, "cannot convert bool to number"},
	} {
		got, err := fn.Call([]cty.Value{tt.in})
		text := ""
		if err != nil {
			text = err.Error()
		} else {
			text = string(DisplayJSON(got))
			if got.Type() != cty.Number {
				t.Errorf("%s: type %s", tt.name, got.Type().FriendlyName())
			}
		}
		if !strings.Contains(text, tt.want) {
			t.Errorf("%s: tonumber = %s, want %s", tt.name, text, tt.want)
		}
	}
}

// TestExactArithmetic pins what docs/language.md says of numbers: whole
// numbers add, subtract, multiply and divide (when the quotient is whole)
// with every digit, up to about 1,000 significant digits; a product with a
// fraction, a quotient that is not whole and a longer product are cty's:
// rounded to the larger operand's precision, at least 512 bits (about 154
// digits).
// Before exactMultiply, B * 1 of a 200-digit B changed its last digits.
func TestExactArithmetic(t *testing.T) {
	t.Parallel()
	b := mustInt(digits200)
	mul := func(x, y *big.Int) string { return new(big.Int).Mul(x, y).String() }
	num := func(s string) cty.Value {
		v, err := ParseNumber(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	e600 := "1" + strings.Repeat("0", 600) // 1,394 significant bits
	long := strings.Repeat(digits200, 3)   // 1,993: the square has more than 3,322
	tests := []struct {
		expr string
		want string
		cty  func() cty.Value // the rounded cases: what cty's own operator gives
	}{
		{expr: "B * 1", want: digits200},
		{expr: "1 * B", want: digits200},
		{expr: "B * B", want: mul(b, b)},
		{expr: "B * 7 / 7", want: digits200},
		{expr: "(B * 2 + 1 - 1) / 2", want: digits200},
		{expr: "B + 1 - 1", want: digits200},
		{expr: "-B * -1", want: digits200},
		{expr: "B % 1000", want: "210"},
		{expr: "12345678901234567890123456789 * 98765432109876543210987654321",
			want: mul(mustInt("12345678901234567890123456789"), mustInt("98765432109876543210987654321"))},
		{expr: "0.1 * 3", want: "0.3"},
		{expr: "B / 3", cty: func() cty.Value { return num(digits200).Divide(num("3")) }},
		{expr: "B * 0.5", cty: func() cty.Value { return num(digits200).Multiply(num("0.5")) }},
		{expr: "E * E", want: "1" + strings.Repeat("0", 1200)},
		{expr: "L * L", cty: func() cty.Value { return num(long).Multiply(num(long)) }},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			src := strings.NewReplacer("B", digits200, "E", e600, "L", long).Replace(tt.expr)
			expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			ExactNumbers(expr, []byte(src))
			v, diags := expr.Value(nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, want := NumberText(v.AsBigFloat()), tt.want
			if tt.cty != nil {
				want = NumberText(tt.cty().AsBigFloat())
			}
			if got != want {
				t.Errorf("%s = %.80s... (%d digits); want %.80s... (%d digits)", tt.expr, got, len(got), want, len(want))
			}
		})
	}
}

func mustInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}
