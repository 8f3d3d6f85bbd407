package lua

import (
	"context"
	"errors"
	"testing"
)

// A script that grows a string or table without bound stops with a clear
// error instead of taking the process down. Not parallel: the heap is the
// process's.
func TestMemoryGuard(t *testing.T) {
	tests := []struct{ name, src string }{
		{"doubling string", `local s = "x" for i = 1, 40 do s = s .. s end return #s`},
		{"growing table", `local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i, i, i} end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A string limit above the guard's: the guard must stop it.
			_, err := runScript(t, tt.src, Options{MaxMemory: 64 << 20, MaxResultBytes: 1 << 30})
			wantError(t, err, "script stopped: memory limit of 64 MiB exceeded")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(err, context.Canceled) is false for %v", err)
			}
		})
	}
}
