package lua

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeCall is one call a fakeCaller received.
type fakeCall struct {
	Session, Method string
	Params          map[string]any
}

// fakeCaller answers from a table of canned results and records every call.
type fakeCaller struct {
	sessions []string
	answers  map[string]string // method → raw JSON result
	errs     map[string]error  // method → error
	pages    map[string][]string
	pageErr  error // returned after the last page, when set
	block    chan struct{}

	mu      sync.Mutex
	calls   []fakeCall
	stopped int // page iterations abandoned by the consumer
	entered chan struct{}
}

func (f *fakeCaller) record(session, method string, params map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{session, method, params})
}

func (f *fakeCaller) Call(ctx context.Context, session, method string, params map[string]any) (json.RawMessage, error) {
	f.record(session, method, params)
	if f.entered != nil {
		f.entered <- struct{}{}
		<-ctx.Done() // a call that waits until the run is stopped
		return nil, ctx.Err()
	}
	if err := f.errs[method]; err != nil {
		return nil, err
	}
	if ans, ok := f.answers[method]; ok {
		return json.RawMessage(ans), nil
	}
	return json.RawMessage(`true`), nil
}

func (f *fakeCaller) Pages(ctx context.Context, session, method string, params map[string]any) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		f.record(session, method, params)
		for _, p := range f.pages[method] {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(json.RawMessage(p), nil) {
				f.mu.Lock()
				f.stopped++
				f.mu.Unlock()
				return
			}
		}
		if f.pageErr != nil {
			yield(nil, f.pageErr)
		}
	}
}

func (f *fakeCaller) Sessions() []string { return f.sessions }

func (f *fakeCaller) recorded() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// runScript runs src as "test.lua" and returns the result as a string.
func runScript(t *testing.T, src string, opts Options) (string, error) {
	t.Helper()
	out, err := Run(t.Context(), "test.lua", []byte(src), opts)
	return string(out), err
}

// mustRun runs src and fails the test on error.
func mustRun(t *testing.T, src string, opts Options) string {
	t.Helper()
	out, err := runScript(t, src, opts)
	if err != nil {
		t.Fatalf("run:\n%s\nerror: %v", src, err)
	}
	return out
}

// wantError checks that err is a *ScriptError whose text contains each of want.
func wantError(t *testing.T, err error, want ...string) *ScriptError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	se, ok := errors.AsType[*ScriptError](err)
	if !ok {
		t.Fatalf("error %v is a %T, want *ScriptError", err, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	return se
}

// decodeInput decodes JSON the way the engine hands input over.
func decodeInput(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSONValue([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}
