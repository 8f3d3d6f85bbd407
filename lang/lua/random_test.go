package lua

import (
	"strings"
	"testing"
)

// math.random must be repeatable for a given seed, so that a resumed run
// replays a script that draws random numbers.
func TestMathRandomIsSeeded(t *testing.T) {
	t.Parallel()
	src := []byte(`
local out = {}
for i = 1, 5 do out[#out+1] = math.random(1000) end
out[#out+1] = math.random(5, 7)
local f = math.random()
assert(f >= 0 and f < 1, "float out of range")
return out`)
	run := func(seed uint64) string {
		t.Helper()
		res, err := Run(t.Context(), "r.lua", src, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return string(res)
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed gave %s and %s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 both gave %s", a)
	}
	reseeded := []byte(`math.randomseed(42); local x = math.random(1000); math.randomseed(42); return x == math.random(1000)`)
	res, err := Run(t.Context(), "r.lua", reseeded, Options{})
	if err != nil || string(res) != "true" {
		t.Errorf("randomseed did not restart the sequence: %s, %v", res, err)
	}
}

func TestMathRandomErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, src, want string }{
		{"empty interval", `return math.random(0)`, "interval is empty"},
		{"reversed interval", `return math.random(5, 1)`, "interval is empty"},
		{"too many arguments", `return math.random(1, 2, 3)`, "wrong number of arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(t.Context(), "r.lua", []byte(tt.src), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "r.lua:1") {
				t.Errorf("error = %v; want r.lua:1 and %q", err, tt.want)
			}
		})
	}
}
