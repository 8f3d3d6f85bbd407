package okru_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// FuzzPlainNumber checks the parser behind every number parameter: any
// text is either refused or rewritten into plain decimal that is valid
// JSON, has no exponent, is its own plain form, and is exactly the same
// number; and every JSON number with a modest exponent is accepted.
//
//	go test ./okru -run '^$' -fuzz FuzzPlainNumber -fuzztime 60s
func FuzzPlainNumber(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "-0.0", "1", "1e21", "1E+21", "1.50e1", "12.5e-3", "0.1", "5e-324",
		"9007199254740993", strings.Repeat("1234567890", 20), "1e400", "-1e-400",
		"1e999999999999", "01", "1.", ".5", "1e", "--1", "1e+-1", "0e99999999999", "abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := okru.PlainNumber(text)
		isNumber := isJSONNumber(text)
		if err != nil {
			if isNumber && !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("%q is a JSON number, but: %v", text, err)
			}
			return
		}
		if !isNumber {
			t.Fatalf("%q is not a JSON number, but became %q", text, got)
		}
		if strings.ContainsAny(got, "eE+") || !isJSONNumber(got) {
			t.Fatalf("%q became %q, not plain decimal", text, got)
		}
		if again, err := okru.PlainNumber(got); err != nil || again != got {
			t.Fatalf("%q became %q, and that %q, %v", text, got, again, err)
		}
		if got == "0" {
			// Zero whatever the exponent: big.Rat cannot read 0e9999999999.
			if mant, _, _ := strings.Cut(strings.ToLower(text), "e"); strings.Trim(mant, "-0.") != "" {
				t.Fatalf("%q became 0", text)
			}
			return
		}
		want, ok1 := new(big.Rat).SetString(text)
		have, ok2 := new(big.Rat).SetString(got)
		if !ok1 || !ok2 || want.Cmp(have) != 0 {
			t.Fatalf("%q became %q: another number", text, got)
		}
	})
}

// isJSONNumber reports whether s is exactly one JSON number.
func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || '0' <= s[0] && s[0] <= '9') {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && string(n) == s
}

// FuzzEncodeJSON checks the JSON writer of parameters: any JSON document,
// sent as a json.RawMessage or decoded into maps and slices, becomes valid
// compact JSON holding the same values, numbers in plain decimal, unless a
// number is out of range.
//
//	go test ./okru -run '^$' -fuzz FuzzEncodeJSON -fuzztime 60s
func FuzzEncodeJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `[[1,2],[3]]`, `{"x":1e21,"y":0.1,"s":"é&<>\u2028\u0000"}`, `[{"id":"1"}]`,
		`{"a":{"b":[null,true,false,-0,1.5e-7]}}`, `"\ud800"`, `{"a":1,"a":2}`, `[1e400]`, `{"k":"\"\\\/\b\f\n\r\t"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		want, err := decodeCanonical(data)
		if err != nil {
			return // a number out of range
		}
		raw, ok, err := okru.EncodeValue(json.RawMessage(data))
		if err != nil || !ok {
			if strings.Contains(err.Error(), "out of range") {
				return
			}
			t.Fatalf("raw %s: %v", data, err)
		}
		got, err := decodeCanonical([]byte(raw))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("raw %s became %s (%v)", data, raw, err)
		}
		if strings.ContainsAny(raw, "\n\t") || strings.Contains(raw, `\u0026`) {
			t.Fatalf("raw %s became %s: not compact, or escaped like HTML", data, raw)
		}
		// The same value as Go maps and slices: JSON unless it is a
		// scalar or a list of scalars.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if _, isMap := v.(map[string]any); !isMap {
			return
		}
		native, _, err := okru.EncodeValue(v)
		if err != nil {
			t.Fatalf("%s as Go values: %v", data, err)
		}
		// Keys repeated in data keep the last value, as in v.
		if got, err := decodeCanonical([]byte(native)); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s as Go values became %s (%v)", data, native, err)
		}
	})
}

// decodeCanonical decodes JSON with numbers as their plain text, so that
// 1e21 and 1000000000000000000000 compare equal.
func decodeCanonical(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return canonical(v)
}

func canonical(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return okru.PlainNumber(string(x))
	case []any:
		for i := range x {
			c, err := canonical(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
	case map[string]any:
		for k := range x {
			c, err := canonical(x[k])
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
	}
	return v, nil
}
