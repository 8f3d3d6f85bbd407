package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// The .. operator, bounded.
//
// gopher-lua runs a .. chain as one instruction (OP_CONCAT) and has no hook
// to look at its result first: s = s .. s doubles a string between two
// samples of the memory guard, and reached 2.1 GB against a 512 MiB limit
// (an out-of-memory crash under ulimit -v). Compile therefore rewrites
// every .. chain into a call of concat, a Go function with the rules of
// OP_CONCAT that checks the result's length against the string limit and
// the memory guard before it builds it, as the string functions do.

// concatName is the name a rewritten .. calls: a local of each chunk,
// copied from the global of that name that the runtime sets. No Lua source
// can name either: it is not an identifier.
const concatName = "(..)"

// boundConcat rewrites the .. chains of chunk into calls of concatName and
// declares it as the chunk's first local, so that every function of the
// chunk reaches it as an upvalue, whatever the script does to its globals.
func boundConcat(chunk []ast.Stmt) []ast.Stmt {
	for _, s := range chunk {
		rewriteStmt(s)
	}
	global := &ast.IdentExpr{Value: concatName}
	local := &ast.LocalAssignStmt{Names: []string{concatName}, Exprs: []ast.Expr{global}}
	// At the first statement's line: a run stopped before it is said to
	// stop there, not at line 0.
	line := 1
	if len(chunk) > 0 {
		line = chunk[0].Line()
	}
	for _, n := range []ast.PositionHolder{global, local} {
		n.SetLine(line)
		n.SetLastLine(line)
	}
	return append([]ast.Stmt{local}, chunk...)
}

func rewriteStmts(stmts []ast.Stmt) {
	for _, s := range stmts {
		rewriteStmt(s)
	}
}

func rewriteStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		rewriteExprs(s.Lhs)
		rewriteExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		rewriteExprs(s.Exprs)
	case *ast.FuncCallStmt:
		s.Expr = rewriteExpr(s.Expr)
	case *ast.DoBlockStmt:
		rewriteStmts(s.Stmts)
	case *ast.WhileStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Stmts)
	case *ast.RepeatStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Stmts)
	case *ast.IfStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Then)
		rewriteStmts(s.Else)
	case *ast.NumberForStmt:
		s.Init, s.Limit, s.Step = rewriteExpr(s.Init), rewriteExpr(s.Limit), rewriteExpr(s.Step)
		rewriteStmts(s.Stmts)
	case *ast.GenericForStmt:
		rewriteExprs(s.Exprs)
		rewriteStmts(s.Stmts)
	case *ast.FuncDefStmt:
		rewriteStmts(s.Func.Stmts)
	case *ast.ReturnStmt:
		rewriteExprs(s.Exprs)
	}
}

func rewriteExprs(exprs []ast.Expr) {
	for i, e := range exprs {
		exprs[i] = rewriteExpr(e)
	}
}

// rewriteExpr returns e with its .. chains rewritten. A chain a .. b .. c
// (the parser nests it to the right, as the compiler reads it) becomes one
// call with all its operands, as it was one OP_CONCAT over them.
func rewriteExpr(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		var args []ast.Expr
		var cur ast.Expr = e
		for {
			c, ok := cur.(*ast.StringConcatOpExpr)
			if !ok {
				args = append(args, concatOperand(cur))
				break
			}
			args = append(args, concatOperand(c.Lhs))
			cur = c.Rhs
		}
		fn := &ast.IdentExpr{Value: concatName}
		fn.SetLine(e.Line())
		fn.SetLastLine(e.LastLine())
		// AdjustRet: one value, and no tail call, which would take the
		// caller's line from an error.
		call := &ast.FuncCallExpr{Func: fn, Args: args, AdjustRet: true}
		call.SetLine(e.Line())
		call.SetLastLine(e.LastLine())
		return call
	case *ast.AttrGetExpr:
		e.Object, e.Key = rewriteExpr(e.Object), rewriteExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			f.Key, f.Value = rewriteExpr(f.Key), rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		e.Func, e.Receiver = rewriteExpr(e.Func), rewriteExpr(e.Receiver)
		rewriteExprs(e.Args)
	case *ast.LogicalOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.FunctionExpr:
		rewriteStmts(e.Stmts)
	}
	return e
}

// concatOperand rewrites e, an operand of .., to give one value: a call or ...
// as the last argument of a call would give all of theirs ("#" ..
// s:gsub(...) would pass gsub's count too), as (f()) gives one.
func concatOperand(e ast.Expr) ast.Expr {
	e = rewriteExpr(e)
	switch e := e.(type) {
	case *ast.FuncCallExpr:
		e.AdjustRet = true
	case *ast.Comma3Expr:
		e.AdjustRet = true
	}
	return e
}

// concat is the .. operator with OP_CONCAT's rules: from the right, a run
// of strings and numbers is joined at once, and a __concat metamethod
// joins anything else two at a time. Each join's length is checked against
// the string limit and the memory guard before it is built.
func (r *runtime) concat(L *glua.LState) int {
	top := L.GetTop()
	rhs := L.Get(top)
	for i := top - 1; i >= 1; {
		lhs := L.Get(i)
		if !glua.LVCanConvToString(lhs) || !glua.LVCanConvToString(rhs) {
			rhs = concatMeta(L, lhs, rhs)
			i--
			continue
		}
		var small [8]string // most chains are short: no allocation for the list
		parts := append(small[:0], glua.LVAsString(rhs))
		n := len(parts[0])
		for ; i >= 1 && glua.LVCanConvToString(L.Get(i)); i-- {
			s := glua.LVAsString(L.Get(i))
			parts = append(parts, s)
			n += len(s)
		}
		r.reserve(L, "concatenation (..)", n)
		var b strings.Builder
		b.Grow(n)
		for k := len(parts) - 1; k >= 0; k-- {
			b.WriteString(parts[k])
		}
		rhs = glua.LString(b.String())
	}
	L.Push(rhs)
	return 1
}

// concatMeta joins lhs and rhs with the __concat metamethod of either,
// with gopher-lua's error when neither has one.
func concatMeta(L *glua.LState, lhs, rhs glua.LValue) glua.LValue {
	op := L.GetMetaField(lhs, "__concat")
	if op == glua.LNil {
		op = L.GetMetaField(rhs, "__concat")
	}
	if op.Type() != glua.LTFunction {
		L.RaiseError("cannot perform concat operation between %v and %v", lhs.Type().String(), rhs.Type().String())
	}
	L.Push(op)
	L.Push(lhs)
	L.Push(rhs)
	L.Call(2, 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}
