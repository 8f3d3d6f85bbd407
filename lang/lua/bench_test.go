package lua

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// usersPage is a users.getInfo answer for 100 users, the usual page size.
var usersPage = func() string {
	users := make([]string, 100)
	for i := range users {
		users[i] = fmt.Sprintf(`{"uid":"%d","first_name":"Анна","last_name":"Иванова","age":%d,"online":true,"pic50x50":"https://i.mycdn.me/i?r=%d"}`,
			576000000000+i, 20+i%50, i)
	}
	return "[" + strings.Join(users, ",") + "]"
}()

// BenchmarkCalls makes 1,000 okru.call from one script against an in-memory
// Caller, beside a Go loop doing the same calls and decoding each answer
// with encoding/json: the difference is the cost of the Lua layer (value
// conversion both ways and the VM).
func BenchmarkCalls(b *testing.B) {
	fc := &fakeCaller{answers: map[string]string{"users.getInfo": usersPage}}
	b.Run("lua", func(b *testing.B) {
		s, err := Compile("calls.lua", []byte(`
			local n = 0
			for i = 1, 1000 do
				local users = okru.call("users.getInfo", {uids = {"1", "2"}, fields = "first_name"})
				n = n + #users
			end
			return n`))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			fc.calls = fc.calls[:0]
			if _, err := s.Run(b.Context(), Options{Caller: fc}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-baseline", func(b *testing.B) {
		for b.Loop() {
			fc.calls = fc.calls[:0]
			n := 0
			for range 1000 {
				raw, err := fc.Call(context.Background(), "", "users.getInfo", map[string]any{"uids": []any{"1", "2"}, "fields": "first_name"})
				if err != nil {
					b.Fatal(err)
				}
				var users []any
				if err := json.Unmarshal(raw, &users); err != nil {
					b.Fatal(err)
				}
				n += len(users)
			}
		}
	})
}

// BenchmarkRunEmpty is the fixed cost of a run: a fresh sandboxed state.
func BenchmarkRunEmpty(b *testing.B) {
	s, err := Compile("empty.lua", []byte(`return nil`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(b.Context(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvert decodes a page of users into Lua and encodes it back,
// beside encoding/json doing the same round trip through any.
func BenchmarkConvert(b *testing.B) {
	data := []byte(usersPage)
	b.Run("lua", func(b *testing.B) {
		r, err := newRuntime("bench.lua", Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer r.close()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			v, err := r.decodeJSON(data, "value")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.encodeJSON(v, "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-baseline", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConcat builds 100,000 short strings with .., which Compile
// turns into calls of the bounded concat, beside the same script compiled
// as gopher-lua compiles it (one OP_CONCAT instruction a chain).
func BenchmarkConcat(b *testing.B) {
	src := []byte(`local n = 0 for i = 1, 100000 do local s = "item " .. i .. " of " .. n n = n + #s end return n`)
	bounded, err := Compile("concat.lua", src)
	if err != nil {
		b.Fatal(err)
	}
	chunk, err := parse.Parse(bytes.NewReader(src), "concat.lua")
	if err != nil {
		b.Fatal(err)
	}
	proto, err := glua.Compile(chunk, "concat.lua")
	if err != nil {
		b.Fatal(err)
	}
	opcode := &Script{name: "concat.lua", proto: proto}
	for _, s := range []struct {
		name   string
		script *Script
	}{{"bounded", bounded}, {"opcode-baseline", opcode}} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.script.Run(b.Context(), Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
