// Package lang is the okru-run workflow language: it loads .hcl (and
// .hcl.json) files into a Config, checks their structure and references,
// provides the functions expressions may call, converts API results (JSON)
// into cty values and call parameters (cty values) into the wire strings
// ok.ru expects, and formats files. Script blocks carry their Lua source
// and know where each of its lines is written; compiling and running it is
// the engine's job (with package lang/lua).
//
// lang knows nothing of HTTP or of the order in which steps run: the engine
// package builds the graph, evaluates expressions against results and calls
// the API. Diagnostics stay hcl.Diagnostics, with source ranges, all the way
// to the printer.
package lang
