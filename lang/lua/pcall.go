package lua

import (
	"errors"

	glua "github.com/yuin/gopher-lua"
)

// pcall and xpcall replace gopher-lua's, to keep a protected call from
// the call stack's last slot from corrupting it.
//
// gopher-lua's call stack grows by segments of glua.FramesPerSegment
// frames (Options.MinimizeStackMemory). When a protected call made from
// the last slot cannot push its function (the stack is full), PCall
// unwinds to a depth one past the end: the stack then forgets a whole
// segment of live frames, the script goes on in the wrong function, and
// the segment returns to a pool that other Lua states, on other
// goroutines, take their frames from. These raise the "stack overflow"
// the push would have raised, before calling.

// stackSlots is how many frames the call stack holds: callStackSize
// rounded up to whole segments.
const stackSlots = (callStackSize + glua.FramesPerSegment - 1) / glua.FramesPerSegment * glua.FramesPerSegment

// checkRoom raises "stack overflow" when the calling Go function holds
// the stack's last slot. GetStack counts a tail call as a level of its
// own, so a stack of tail calls may be refused a few frames early.
func checkRoom(L *glua.LState) {
	if _, full := L.GetStack(stackSlots - 1); full {
		L.RaiseError("stack overflow")
	}
}

// luaPcall is pcall(f, ...): true and f's results, or false and the error.
func luaPcall(L *glua.LState) int {
	f := L.CheckAny(1)
	if f.Type() != glua.LTFunction && L.GetMetaField(f, "__call").Type() != glua.LTFunction {
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a " + f.Type().String() + " value"))
		return 2
	}
	checkRoom(L)
	if err := L.PCall(L.GetTop()-1, glua.MultRet, nil); err != nil {
		L.Push(glua.LFalse)
		L.Push(errorValue(err))
		return 2
	}
	L.Insert(glua.LTrue, 1)
	return L.GetTop()
}

// luaXpcall is xpcall(f, handler): as pcall, with the handler's answer
// to the error in place of the error.
func luaXpcall(L *glua.LState) int {
	f := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	checkRoom(L)
	top := L.GetTop()
	L.Push(f)
	if err := L.PCall(0, glua.MultRet, handler); err != nil {
		L.Push(glua.LFalse)
		L.Push(errorValue(err))
		return 2
	}
	L.Insert(glua.LTrue, top+1)
	return L.GetTop() - top
}

// errorValue is the Lua value a failed PCall raised.
func errorValue(err error) glua.LValue {
	if aerr, ok := errors.AsType[*glua.ApiError](err); ok {
		return aerr.Object
	}
	return glua.LString(err.Error())
}
