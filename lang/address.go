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
	KindEach     Kind = "each"   // each.key and each.value inside a for_each step
	KindModule   Kind = "module" // module blocks: another folder's workflow, run as part of this one
)

// Address names one object of a workflow, such as call.members.
type Address struct {
	Kind Kind
	Name string
	// Module is the module instance the object belongs to, as in
	// module.posts["news"] (or module.a.module.b for a module in a module);
	// "" at the top of the workflow. Expressions name objects of their own
	// module, so references leave it empty: the engine sets it on the
	// objects of its graph.
	Module string
}

// String returns the address as written in expressions, e.g. "call.members",
// prefixed by its module instance, e.g. module.posts["news"].call.post.
func (a Address) String() string {
	s := string(a.Kind)
	if a.Name != "" {
		s += "." + a.Name
	}
	if a.Module != "" {
		s = a.Module + "." + s
	}
	return s
}

// Local returns the address without its module instance: the name
// expressions inside that module use.
func (a Address) Local() Address { return Address{Kind: a.Kind, Name: a.Name} }

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
