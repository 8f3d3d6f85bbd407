package lua

import (
	"math"
	"math/rand/v2"

	glua "github.com/yuin/gopher-lua"
)

// newRand returns the generator behind math.random for one run.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x6f6b72752d72756e)) // "okru-run"
}

// mathRandom is Lua 5.1's math.random drawing from the run's own seeded
// generator: with no argument a float in [0,1), with m an integer in
// [1,m], with m and n an integer in [m,n].
func (r *runtime) mathRandom(L *glua.LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(glua.LNumber(r.rng.Float64()))
		return 1
	case 1:
		m := L.CheckInt64(1)
		if m < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(glua.LNumber(1 + r.rng.Int64N(m)))
		return 1
	case 2:
		m, n := L.CheckInt64(1), L.CheckInt64(2)
		if m > n {
			L.ArgError(2, "interval is empty")
		}
		if n-m < 0 || n-m == math.MaxInt64 {
			L.ArgError(2, "interval is too large")
		}
		L.Push(glua.LNumber(m + r.rng.Int64N(n-m+1)))
		return 1
	}
	L.RaiseError("wrong number of arguments to math.random")
	return 0
}

// mathRandomseed reseeds the run's generator.
func (r *runtime) mathRandomseed(L *glua.LState) int {
	seed := L.CheckNumber(1)
	r.rng = newRand(math.Float64bits(float64(seed)))
	return 0
}
