package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The functions Terraform users reach for that cty's standard library
// lacks or limits: length of objects and strings, range beyond 1,024
// numbers, fileset, one, alltrue, anytrue, startswith, endswith and
// strcontains, with Terraform's meaning.

// MaxRange is the most numbers range() makes. cty's own range stops at
// 1,024, too few for a batch; a million is as many instances as a step may
// have, and keeps a mistaken range(1e12) from exhausting memory.
const MaxRange = 1_000_000

// lengthFunc is length(value): the elements of a list, tuple, set or map,
// the attributes of an object, or the characters of a string, as in
// Terraform. A collection whose elements are not known yet still has a
// known length, so length(call.NAME) of a for_each step is known in plans.
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements of a collection, attributes of an object or characters of a string.",
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType,
		AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		ty := v.Type()
		switch {
		case ty == cty.DynamicPseudoType || !v.IsKnown():
			return cty.UnknownVal(cty.Number).WithMarks(marks), nil
		case v.IsNull():
			return cty.NilVal, function.NewArgErrorf(0, "length of null")
		case ty == cty.String:
			n, err := stdlib.Strlen(v)
			return n.WithMarks(marks), err
		case ty.IsObjectType():
			return cty.NumberIntVal(int64(len(ty.AttributeTypes()))).WithMarks(marks), nil
		case ty.IsTupleType():
			return cty.NumberIntVal(int64(len(ty.TupleElementTypes()))).WithMarks(marks), nil
		case ty.IsCollectionType():
			if ty.IsSetType() && !v.IsWhollyKnown() {
				// Unknown elements of a set may turn out equal.
				return cty.UnknownVal(cty.Number).WithMarks(marks), nil
			}
			return cty.NumberIntVal(int64(v.LengthInt())).WithMarks(marks), nil
		}
		return cty.NilVal, function.NewArgErrorf(0, "length needs a list, a set, a map, an object, a tuple or a string, not %s", ty.FriendlyName())
	},
})

// rangeFunc is range(end), range(start, end) or range(start, end, step),
// as cty's, but up to MaxRange numbers.
var rangeFunc = function.New(&function.Spec{
	Description: "Returns a list of numbers from start (0) up to, not including, end, by step (1).",
	VarParam:    &function.Parameter{Name: "params", Type: cty.Number},
	Type:        function.StaticReturnType(cty.List(cty.Number)),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var start, end, step cty.Value
		switch len(args) {
		case 1:
			start, end, step = cty.Zero, args[0], cty.NumberIntVal(1)
		case 2:
			start, end = args[0], args[1]
			step = cty.NumberIntVal(1)
			if end.LessThan(start).True() {
				step = cty.NumberIntVal(-1)
			}
		case 3:
			start, end, step = args[0], args[1], args[2]
		default:
			return cty.NilVal, errors.New("range takes one to three numbers: end, start and end, or start, end and step")
		}
		if step.Equals(cty.Zero).True() {
			return cty.NilVal, function.NewArgErrorf(len(args)-1, "the step of range must not be zero")
		}
		up := step.GreaterThan(cty.Zero).True()
		if up && end.LessThan(start).True() || !up && end.GreaterThan(start).True() {
			return cty.ListValEmpty(cty.Number), nil
		}
		var vals []cty.Value
		for v := start; up && v.LessThan(end).True() || !up && v.GreaterThan(end).True(); v = v.Add(step) {
			if len(vals) == MaxRange {
				return cty.NilVal, fmt.Errorf("range makes at most %d numbers, as a step may have at most that many instances; split the work over several runs", MaxRange)
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return cty.ListValEmpty(cty.Number), nil
		}
		return cty.ListVal(vals), nil
	},
})

// oneFunc is one(list): null for an empty list or set, its element for
// one, an error for more.
var oneFunc = function.New(&function.Spec{
	Description: "Returns the only element of a list or set, or null when it is empty.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty.IsListType() || ty.IsSetType():
			return ty.ElementType(), nil
		case ty.IsTupleType():
			if elems := ty.TupleElementTypes(); len(elems) == 1 {
				return elems[0], nil
			}
			return cty.DynamicPseudoType, nil
		}
		return cty.NilType, function.NewArgErrorf(0, "one needs a list, a set or a tuple, not %s", ty.FriendlyName())
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		v := args[0]
		switch n := v.LengthInt(); n {
		case 0:
			return cty.NullVal(retType), nil
		case 1:
			it := v.ElementIterator()
			it.Next()
			_, e := it.Element()
			return e, nil
		default:
			return cty.NilVal, function.NewArgErrorf(0, "one needs at most one element, got %d", n)
		}
	},
})

// boolsFunc makes alltrue and anytrue: whether every (or any) element of
// a list of bools is true.
func boolsFunc(all bool) function.Function {
	name := "anytrue"
	if all {
		name = "alltrue"
	}
	return function.New(&function.Spec{
		Description: fmt.Sprintf("Returns whether %s element of a list of bools is true.", map[bool]string{true: "every", false: "any"}[all]),
		Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			list := args[0]
			ty := list.Type()
			if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
				return cty.NilVal, function.NewArgErrorf(0, "%s needs a list of bools, not %s", name, ty.FriendlyName())
			}
			result := all
			i := 0
			for it := list.ElementIterator(); it.Next(); i++ {
				_, v := it.Element()
				b, err := convert.Convert(v, cty.Bool)
				if err != nil || b.IsNull() {
					return cty.NilVal, function.NewArgErrorf(0, "element %d is not a bool", i)
				}
				if !b.IsKnown() {
					return cty.UnknownVal(cty.Bool), nil
				}
				if b.True() != all {
					result = !all
				}
			}
			return cty.BoolVal(result), nil
		},
	})
}

// stringTestFunc makes startswith, endswith and strcontains.
func stringTestFunc(desc, second string, test func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "string", Type: cty.String}, {Name: second, Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// maxFileset is the most paths fileset returns.
const maxFileset = MaxRange

// filesetFunc is fileset(path, pattern): the regular files below path (a
// folder inside the workflow's) whose paths, relative to path, match
// pattern, as in Terraform: * and ? within a name, ** across folders,
// {a,b} alternatives not supported. Symbolic links are not followed and
// not listed, so nothing outside the workflow's folder is reached.
func (s Scope) filesetFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the files below a folder of the workflow whose relative paths match a pattern.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}, {Name: "pattern", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			base, pattern := args[0].AsString(), args[1].AsString()
			if filepath.IsAbs(base) {
				return cty.NilVal, function.NewArgErrorf(0, "paths are relative to the workflow's folder; %q is absolute", base)
			}
			if _, err := path.Match(strings.ReplaceAll(pattern, "**", "*"), ""); err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "invalid pattern %q: %v", pattern, err)
			}
			root, err := s.openRoot()
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "%s", err)
			}
			defer root.Close()
			start := path.Clean(filepath.ToSlash(base))
			if start == ".." || strings.HasPrefix(start, "../") {
				return cty.NilVal, function.NewArgErrorf(0, "%q leaves the workflow's folder", base)
			}
			var found []cty.Value
			err = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.Type().IsRegular() {
					return nil // folders are walked; links and devices are not listed
				}
				rel := strings.TrimPrefix(p, start+"/")
				if start == "." {
					rel = p
				}
				if matchPath(pattern, rel) {
					if len(found) == maxFileset {
						return fmt.Errorf("more than %d files match", maxFileset)
					}
					found = append(found, cty.StringVal(rel))
				}
				return nil
			})
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "list %q: %s (paths are relative to the workflow's folder and may not leave it)", base, pathErr(err))
			}
			if len(found) == 0 {
				return cty.SetValEmpty(cty.String), nil
			}
			return cty.SetVal(found), nil
		},
	})
}

// matchPath matches a slash-separated path against a pattern whose
// segments are path.Match patterns, where a ** segment matches any number
// of segments.
func matchPath(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
