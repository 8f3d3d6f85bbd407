package lang

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/customdecode"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// LuaNamespace prefixes the functions Lua libraries declare: an expression
// calls the library function slug as lua::slug(...).
const LuaNamespace = "lua::"

// LuaFunctions are the pure functions Lua libraries declare (package
// lang/lua's Libraries is the implementation). lang only converts values:
// arguments become JSON with exact numbers, the form a script's input
// takes, and the result is read back as a call result is.
type LuaFunctions interface {
	// FunctionList lists the names of the functions, without lua::.
	FunctionList(ctx context.Context) ([]string, error)
	// Call calls one with arguments and returns its result, each as JSON.
	Call(ctx context.Context, name string, args []json.RawMessage) (json.RawMessage, error)
}

// luaFunctions adds lua::NAME for each function of s.Lua to fns. A library
// that cannot be read adds nothing here: the engine reports it when it
// compiles the workflow.
func (s Scope) luaFunctions(fns map[string]function.Function) {
	if s.Lua == nil {
		return
	}
	names, err := s.Lua.FunctionList(context.Background())
	if err != nil {
		return
	}
	ctx := s.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for _, name := range names {
		fns[LuaNamespace+name] = luaFunction(ctx, s.Lua, name)
	}
}

// luaFunction is one lua:: function: any number of arguments of any type.
// An unknown argument makes the result unknown without calling Lua, and a
// sensitive one makes it sensitive (cty does both, as for every function).
// Each call runs under ctx, the command's context.
func luaFunction(ctx context.Context, lib LuaFunctions, name string) function.Function {
	return function.New(&function.Spec{
		Description: "Calls the function " + name + " of a Lua library.",
		VarParam:    &function.Parameter{Name: "args", Type: cty.DynamicPseudoType, AllowNull: true},
		Type:        function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := ctx.Err(); err != nil {
				// The rest of an expression whose call was stopped: no
				// need to start Lua.
				return cty.NilVal, fmt.Errorf("interrupted before the call: %w", err)
			}
			raw := make([]json.RawMessage, len(args))
			for i, a := range args {
				b, err := JSON(a)
				if err != nil {
					return cty.NilVal, function.NewArgErrorf(i, "%s", err)
				}
				raw[i] = b
			}
			// The call is bounded in time and memory by the library, so a
			// function that loops for ever cannot hold a plan or a run;
			// ctx ending (an interrupt) stops it before its bound. Being
			// stopped is an error, never another value: a call that
			// returns gives what it always gives.
			out, err := lib.Call(ctx, name, raw)
			if err != nil {
				return cty.NilVal, err
			}
			return ValueFromJSON(out)
		},
	})
}

// stoppable wraps try or can (f, whose result type is ty) so that they
// never turn a lua:: call stopped by s.Context into a value: when the
// context has ended and an expression they were given calls a lua::
// function, they fail with the context's error instead of falling back on
// the next expression or on false. A call that ends gives what it always
// gives, so without this an interrupt would be the one way a try() could
// give another value than the last time, one a run might send.
func (s Scope) stoppable(f function.Function, ty function.TypeFunc) function.Function {
	if s.Context == nil || s.Lua == nil {
		return f
	}
	ctx := s.Context
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		// f's own type would evaluate the expressions once more.
		Type: ty,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := f.Call(args)
			if ctx.Err() != nil && callsLua(args) {
				return cty.NilVal, fmt.Errorf("interrupted while a lua:: function ran: %w", ctx.Err())
			}
			return v, err
		},
	})
}

// callsLua reports whether one of the expressions given to try or can
// calls a lua:: function. An expression not of HCL's native syntax may.
func callsLua(args []cty.Value) bool {
	for _, a := range args {
		expr, ok := customdecode.ExpressionClosureFromVal(a).Expression.(hclsyntax.Expression)
		if !ok {
			return true
		}
		found := false
		hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && strings.HasPrefix(call.Name, LuaNamespace) {
				found = true
			}
			return nil
		})
		if found {
			return true
		}
	}
	return false
}

// Stopped reports whether d is the error of a function call that ctx, a
// Scope's Context, stopped by ending: a lua:: function, or try or can
// around one.
func Stopped(ctx context.Context, d *hcl.Diagnostic) bool {
	if ctx == nil || ctx.Err() == nil || d.Severity != hcl.DiagError {
		return false
	}
	call, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
	return ok && errors.Is(call.FunctionCallError(), ctx.Err())
}

// Interrupted reports whether diags fail only because ctx ended: they
// hold errors, and each is Stopped. What gave them is interrupted, not
// wrong.
func Interrupted(ctx context.Context, diags hcl.Diagnostics) bool {
	if !diags.HasErrors() {
		return false
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && !Stopped(ctx, d) {
			return false
		}
	}
	return true
}
