package lang

import "github.com/hashicorp/hcl/v2"

// Kind is the kind of a named object of a workflow, which is also the root
// name expressions use to refer to it (var.x, local.y, call.z).
type Kind string

// The kinds of objects a workflow declares.
const (
	KindVariable Kind = "var"
	KindLocal    Kind = "local"
	KindSession  Kind = "session"
	KindCall     Kind = "call"
	KindScript   Kind = "script" // Lua script steps
	KindUpload   Kind = "upload" // photo and video uploads
	KindOutput   Kind = "output"
	KindEach     Kind = "each" // each.key and each.value inside a for_each step
)

// Address names one object of a workflow, such as call.members.
type Address struct {
	Kind Kind
	Name string
}

// String returns the address as written in expressions, e.g. "call.members".
func (a Address) String() string {
	if a.Name == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + "." + a.Name
}

// IsStep reports whether the address names a step, whose value is known only
// once it has run.
func (a Address) IsStep() bool {
	return a.Kind == KindCall || a.Kind == KindScript || a.Kind == KindUpload
}

// Reference is one use of an object inside an expression.
type Reference struct {
	Addr      Address
	Traversal hcl.Traversal // the whole traversal, e.g. call.x.result.id
	Range     hcl.Range
}
