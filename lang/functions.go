package lang

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Scope is what expressions may reach outside the workflow: its folder, for
// file(), and the environment, for env().
type Scope struct {
	Dir    string              // the workflow's folder; file() reads only below it
	Getenv func(string) string // nil means no environment
	// Now returns the current time for timestamp(); nil means time.Now.
	Now func() time.Time
	// Lua gives the functions Lua libraries declare, called as lua::NAME;
	// nil gives none.
	Lua LuaFunctions
	// Context is the command's: lua:: calls run under it, so that
	// cancelling it (Ctrl-C) stops a running function at once instead of
	// at its time bound. A call it stops fails with an error that wraps
	// the context's (errors.Is(err, context.Canceled)). nil means
	// context.Background().
	Context context.Context
}

// Functions returns the functions expressions may call: the cty standard
// library (numbers, strings, collections, sets, JSON, CSV, regular
// expressions, dates, type conversions), try and can, and env, file and
// timestamp.
func (s Scope) Functions() map[string]function.Function {
	fns := map[string]function.Function{
		// numbers
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "signum": stdlib.SignumFunc,
		"int": stdlib.IntFunc,
		// strings
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc, "strlen": stdlib.StrlenFunc,
		"strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc,
		"trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "upper": stdlib.UpperFunc,
		"startswith":  stringTestFunc("Returns whether a string starts with a prefix.", "prefix", strings.HasPrefix),
		"endswith":    stringTestFunc("Returns whether a string ends with a suffix.", "suffix", strings.HasSuffix),
		"strcontains": stringTestFunc("Returns whether a string contains another.", "substr", strings.Contains),
		// collections
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "index": indexFunc,
		"keys": stdlib.KeysFunc, "length": lengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": rangeFunc, "reverse": stdlib.ReverseListFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap": stdlib.ZipmapFunc, "hasindex": stdlib.HasIndexFunc, "sum": sumFunc,
		"one": oneFunc, "alltrue": boolsFunc(true), "anytrue": boolsFunc(false),
		// sets
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"setsymmetricdifference": stdlib.SetSymmetricDifferenceFunc,
		// encodings
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc,
		// dates
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"timestamp": s.timestampFunc(),
		// types
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": exactToNumber(),
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		// errors
		"try": s.stoppable(tryfunc.TryFunc, function.StaticReturnType(cty.DynamicPseudoType)),
		"can": s.stoppable(tryfunc.CanFunc, function.StaticReturnType(cty.Bool)),
		// outside world
		"env":     s.envFunc(),
		"file":    s.fileFunc(),
		"fileset": s.filesetFunc(),
		// uploads
		"topic_attachment": topicAttachmentFunc,
	}
	s.luaFunctions(fns)
	return fns
}

// FunctionNames lists the function names, for documentation and tests.
func FunctionNames() []string {
	var names []string
	for n := range (Scope{}).Functions() {
		names = append(names, n)
	}
	return names
}

// envFunc is env(name) or env(name, default): the value of an environment
// variable, or default (null when not given) when it is unset or empty. A
// null credential then gets a clear "not set" message from the session.
// The value of a credential's variable (IsCredentialEnv) is sensitive.
func (s Scope) envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or the default when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String, AllowNull: true},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			var v string
			if s.Getenv != nil {
				v = s.Getenv(name)
			}
			out := cty.NullVal(cty.String)
			switch {
			case v != "":
				out = cty.StringVal(v)
			case len(args) == 2:
				out = args[1]
			}
			// A credential is sensitive wherever it goes, also when no
			// session uses it (output "k" { value = env("OKRU_...") }).
			if IsCredentialEnv(name) && !out.IsNull() {
				out = Sensitive(out)
			}
			return out, nil
		},
	})
}

// maxFileSize bounds what file() reads, so a mistaken path cannot pull a
// huge file into memory.
const maxFileSize = 16 << 20

// fileFunc is file(path): the contents of a UTF-8 text file inside the
// workflow's folder. The path is relative to the folder and may not leave
// it, not even through a symbolic link (os.Root enforces that).
func (s Scope) fileFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file inside the workflow's folder.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if filepath.IsAbs(name) {
				return cty.NilVal, function.NewArgErrorf(0, "file paths are relative to the workflow's folder; %q is absolute", name)
			}
			root, err := s.openRoot()
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "%s", err)
			}
			defer root.Close()
			st, err := root.Stat(filepath.FromSlash(name))
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "read %q: %s (paths are relative to the workflow's folder and may not leave it)", name, pathErr(err))
			}
			if st.Size() > maxFileSize {
				return cty.NilVal, function.NewArgErrorf(0, "read %q: the file is larger than %d bytes", name, maxFileSize)
			}
			data, err := root.ReadFile(filepath.FromSlash(name))
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "read %q: %s", name, pathErr(err))
			}
			if !utf8.Valid(data) {
				return cty.NilVal, function.NewArgErrorf(0, "%q is not UTF-8 text", name)
			}
			return cty.StringVal(string(data)), nil
		},
	})
}

// openRoot opens the workflow's folder as the root that file() and
// fileset() may not leave, not even through a symbolic link.
func (s Scope) openRoot() (*os.Root, error) {
	dir := s.Dir
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open the workflow's folder: %s", pathErr(err))
	}
	return root, nil
}

// pathErr describes a file error without repeating the path.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	return err.Error()
}

func (s Scope) timestampFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the current time in RFC 3339 format, in UTC.",
		Type:        function.StaticReturnType(cty.String),
		Impl: func(_ []cty.Value, _ cty.Type) (cty.Value, error) {
			now := time.Now
			if s.Now != nil {
				now = s.Now
			}
			return cty.StringVal(now().UTC().Format(time.RFC3339)), nil
		},
	})
}

// indexFunc is index(list, value): the position of the first element equal
// to value, as in Terraform (cty's own "index" looks an element up instead).
var indexFunc = function.New(&function.Spec{
	Description: "Returns the position of the first element of a list equal to a value.",
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list, value := args[0], args[1]
		ty := list.Type()
		if !ty.IsListType() && !ty.IsTupleType() {
			return cty.NilVal, function.NewArgErrorf(0, "index needs a list or a tuple, not %s", ty.FriendlyName())
		}
		if !list.IsWhollyKnown() || !value.IsKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		i := 0
		for it := list.ElementIterator(); it.Next(); i++ {
			_, v := it.Element()
			if eq := v.Equals(value); eq.IsKnown() && eq.True() {
				return cty.NumberIntVal(int64(i)), nil
			}
		}
		return cty.NilVal, function.NewArgErrorf(1, "the value is not in the list")
	},
})

// sumFunc is sum(list): the total of a list of numbers.
var sumFunc = function.New(&function.Spec{
	Description: "Returns the total of a list of numbers.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list := args[0]
		ty := list.Type()
		if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
			return cty.NilVal, function.NewArgErrorf(0, "sum needs a list of numbers, not %s", ty.FriendlyName())
		}
		if !list.IsWhollyKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		total := cty.Zero
		i := 0
		for it := list.ElementIterator(); it.Next(); i++ {
			_, v := it.Element()
			n, err := convert.Convert(v, cty.Number)
			if err != nil || n.IsNull() {
				return cty.NilVal, function.NewArgErrorf(0, "element %d is not a number", i)
			}
			total = total.Add(n)
		}
		return total, nil
	},
})
