package lua

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

var jsonSeeds = []string{
	`null`, `true`, `0`, `-0`, `1.0`, `0.1`, `1e400`, `-1e-400`, `0e99999999999`,
	`9007199254740992`, `9007199254740993`, `12345678901234567890`, `1.0000000000000000001`,
	`""`, `"Привет"`, `"\u0000\ud800"`, `"<&>"`,
	`[]`, `{}`, `[null]`, `[1,null,3]`, `{"a":null}`, `{"a":{}}`, `[[],{}]`,
	`{"users":[{"uid":"1","age":30,"tags":["a","b"]}],"has_more":false,"anchor":"x"}`,
	`{"1":"one","2":"two"}`, `{"":1}`,
}

// FuzzJSONRoundTrip checks the value conversion: any valid JSON decodes
// into Lua and encodes back without error or panic, the result is valid
// JSON, and a second round trip changes nothing (the first may: nulls in
// objects disappear and inexact numbers become strings).
func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		r := fuzzRuntime(t)
		if _, err := r.decodeJSON(data, "value"); err != nil && strings.Contains(err.Error(), "out of the range of a Lua number") {
			return // 1e400: refused, never a wrong number
		}
		once := roundTrip(t, r, data)
		if !json.Valid(once) {
			t.Fatalf("%s became invalid JSON %s", data, once)
		}
		if twice := roundTrip(t, r, once); !bytes.Equal(once, twice) {
			t.Fatalf("not stable:\n in    %s\n once  %s\n twice %s", data, once, twice)
		}
	})
}

// fuzzState is one Lua state reused across fuzz inputs: a fresh state
// costs more than converting a small input, and fuzzing calls the target
// serially in each process.
var fuzzState struct {
	once sync.Once
	r    *runtime
	err  error
}

func fuzzRuntime(t *testing.T) *runtime {
	fuzzState.once.Do(func() { fuzzState.r, fuzzState.err = newRuntime("fuzz.lua", Options{}) })
	if fuzzState.err != nil {
		t.Fatal(fuzzState.err)
	}
	return fuzzState.r
}

func roundTrip(t *testing.T, r *runtime, data []byte) []byte {
	t.Helper()
	v, err := r.decodeJSON(data, "value")
	if err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	out, err := r.encodeJSON(v, "value")
	if err != nil {
		t.Fatalf("encode %s: %v", data, err)
	}
	return out
}

// FuzzCompile checks that no source text makes the compiler panic, and that
// every failure is a *SyntaxError with a position inside the source.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"return 1", "local x = = 1", "x = 'abc", "--[[", "goto x", "break",
		"for i = 1, 10 do end", "local t = {a = 1, [2] = 3, 'x'}", "return function(...) return ... end",
		"::a:: goto a", "a.b.c:d(1)", "local s = [==[ long ]==]", "return 0x1p4", "return \"\\z\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		err := Check("fuzz.lua", src)
		if err == nil {
			return
		}
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Fatalf("%q: %T %v, want *SyntaxError", src, err, err)
		}
		last, _ := endOf(src)
		if se.Line < 1 || se.Line > last || se.Column < 0 {
			t.Fatalf("%q: position %d:%d outside the source (%d lines): %v", src, se.Line, se.Column, last, err)
		}
	})
}
