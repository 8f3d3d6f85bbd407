// Package engine plans and runs okru-run workflows. It builds the graph of a
// lang.Config from its references and depends_on, checks what can be checked
// before running (methods against the catalog, sessions, cycles), evaluates
// expressions in dependency order, expands for_each and when from earlier
// results, and calls the API through the small Caller interface, in
// parallel up to a bound, reporting what happens through one Observer.
// Script steps run Lua (package lang/lua) whose calls go through the same
// session clients and events as call steps (see script.go).
//
// For batch runs it keeps a journal of every call (StateOptions, stored by
// the state sub-package) to resume a run without repeating finished calls
// or writes (see journal.go), runs one shard of every for_each (Shard),
// stops gently (Options.Stop) and makes instances only as they are
// dispatched, so that memory stays flat as a batch grows (see batch.go).
//
// The engine decides nothing about presentation: the CLI renders events and
// plans (see the render sub-package), and it never sees HTTP: okru does.
package engine
