package lang

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// ValueFromJSON converts an API result into a cty value: objects become
// object values, arrays tuples, strings strings, true/false bools and null a
// null of dynamic type. Numbers are parsed from their text into cty's
// arbitrary-precision numbers, so an id such as 12345678901234567890 sent as
// a JSON number keeps every digit.
//
// This is the only JSON-to-value conversion of the project: the engine uses
// it for every call result.
func ValueFromJSON(raw []byte) (cty.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeJSON(dec)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode result: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return cty.NilVal, errors.New("decode result: unexpected data after the JSON value")
	}
	return v, nil
}

// maxNumberExp bounds the binary exponent of a number in a result: 2^3322
// is about 10^1000.
const maxNumberExp = 3322

func decodeJSON(dec *json.Decoder) (cty.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return cty.NilVal, io.ErrUnexpectedEOF
		}
		return cty.NilVal, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			attrs := map[string]cty.Value{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return cty.NilVal, err
				}
				key, ok := kt.(string)
				if !ok {
					return cty.NilVal, fmt.Errorf("object key is %v, not a string", kt)
				}
				v, err := decodeJSON(dec)
				if err != nil {
					return cty.NilVal, err
				}
				attrs[key] = v
			}
			if _, err := dec.Token(); err != nil {
				return cty.NilVal, err
			}
			return cty.ObjectVal(attrs), nil
		case '[':
			var elems []cty.Value
			for dec.More() {
				v, err := decodeJSON(dec)
				if err != nil {
					return cty.NilVal, err
				}
				elems = append(elems, v)
			}
			if _, err := dec.Token(); err != nil {
				return cty.NilVal, err
			}
			return cty.TupleVal(elems), nil
		}
		return cty.NilVal, fmt.Errorf("unexpected %v", t)
	case string:
		return cty.StringVal(t), nil
	case json.Number:
		return ParseNumber(string(t))
	case bool:
		return cty.BoolVal(t), nil
	case nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	}
	return cty.NilVal, fmt.Errorf("unexpected token %v", tok)
}

// GoValue converts a known value into the plain Go values the okru client
// takes as parameters, which okru alone turns into wire text: strings,
// bools, numbers as exact *big.Float, lists, sets and tuples as []any,
// objects and maps as map[string]any, null as nil. So a workflow sends
// what a Go program or a Lua script with the same values sends. Marks are
// dropped; unknown values are an error: they exist only while planning.
func GoValue(v cty.Value) (any, error) {
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return nil, errors.New("value is not known yet")
	}
	return goValue(v), nil
}

func goValue(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		return v.AsBigFloat()
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = append(out, goValue(ev))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out[k.AsString()] = goValue(ev)
		}
		return out
	}
	return nil // capsules: none reach parameters
}

func primitiveText(v cty.Value) string {
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Bool:
		return strconv.FormatBool(v.True())
	}
	return NumberText(v.AsBigFloat())
}

// NumberText formats a number in plain decimal, as okru sends it: without
// an exponent, with the fewest digits that identify the number at its
// precision. Whole numbers parsed by ParseNumber keep every digit; 1e21 is
// 1000000000000000000000, never the digits of a binary approximation.
func NumberText(f *big.Float) string {
	if f.Sign() == 0 {
		return "0"
	}
	return f.Text('f', -1)
}

// ParseNumber parses the decimal text of a number (HCL or JSON) into a cty
// number that keeps every digit of a whole number, however long: cty's own
// parsing stops at 512 bits, about 154 digits, and would change the last
// digits of a 200-digit id. Other numbers keep at least 512 bits. Numbers
// beyond about 10^1000 are refused: writing them out in plain decimal
// (outputs, parameters, the run's state) would take minutes.
func ParseNumber(text string) (cty.Value, error) {
	f, _, err := big.ParseFloat(text, 10, 512, big.ToNearestEven)
	if err != nil {
		return cty.NilVal, errors.New("a number is required")
	}
	if f.IsInf() || max(f.MantExp(nil), -f.MantExp(nil)) > maxNumberExp {
		return cty.NilVal, fmt.Errorf("number %.40s is out of range: more than 1000 decimal digits", text)
	}
	if exp := f.MantExp(nil); exp > 512-64 {
		// Enough bits for every digit of the whole part, and 64 more for a
		// fraction. Not more: a long fraction ("0.1234...", a megabyte of
		// digits) keeps 512 bits, as in cty, so that printing it stays cheap.
		// (f.Acc() cannot tell whether 512 bits were enough: after Parse
		// it says Exact for a 155-digit integer that lost its last digit.)
		f, _, _ = big.ParseFloat(text, 10, uint(exp+64), big.ToNearestEven)
	}
	return cty.NumberVal(f), nil
}

// exactToNumber is the tonumber function, except that a string becomes a
// number by ParseNumber: tonumber("<200-digit id>") keeps every digit,
// where cty's conversion stops at 512 bits.
func exactToNumber() function.Function {
	convert := stdlib.MakeToFunc(cty.Number)
	return function.New(&function.Spec{
		Description: convert.Description(),
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType,
			AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}},
		Type: func(args []cty.Value) (cty.Type, error) { return convert.ReturnType([]cty.Type{args[0].Type()}) },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, marks := args[0].Unmark()
			if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
				if n, err := ParseNumber(v.AsString()); err == nil {
					return n.WithMarks(marks), nil
				}
			}
			return convert.Call(args)
		},
	})
}

// ExactNumbers re-reads the number literals of an HCL syntax tree from src
// with ParseNumber, so that a 200-digit id written in a workflow is sent
// with every digit (hclsyntax parses them at cty's 512 bits), and gives its
// * operators exactMultiply.
func ExactNumbers(node hclsyntax.Node, src []byte) {
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if op, ok := n.(*hclsyntax.BinaryOpExpr); ok && op.Op == hclsyntax.OpMultiply {
			op.Op = exactMultiply
			return nil
		}
		lit, ok := n.(*hclsyntax.LiteralValueExpr)
		if !ok || lit.Val.Type() != cty.Number || lit.Val.IsMarked() {
			return nil
		}
		r := lit.SrcRange
		if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte >= r.End.Byte {
			return nil
		}
		v, err := ParseNumber(string(src[r.Start.Byte:r.End.Byte]))
		if err != nil {
			return nil
		}
		// The same number at hclsyntax's 512 bits: only digits beyond
		// them change, so the range did point at the literal.
		exact := v.AsBigFloat()
		if new(big.Float).SetPrec(512).SetMode(big.ToNearestEven).Set(exact).Cmp(lit.Val.AsBigFloat()) == 0 {
			lit.Val = v
		}
		return nil
	})
}

// exactMultiply is HCL's * with the whole product of two whole numbers:
// cty multiplies at 512 bits, about 154 digits, so a 200-digit id times 1
// lost its last digits. Whole numbers add, subtract and divide exactly in
// cty already (it keeps the larger precision of the two). Other products,
// and whole ones of more than maxNumberExp significant bits (about 1,000
// digits), are cty's: a product's bits are the sum of its factors', and
// repeated squaring would otherwise grow them without end.
var exactMultiply = &hclsyntax.Operation{
	Impl: function.New(&function.Spec{
		Description: stdlib.MultiplyFunc.Description(),
		Params: []function.Parameter{
			{Name: "a", Type: cty.Number, AllowDynamicType: true},
			{Name: "b", Type: cty.Number, AllowDynamicType: true},
		},
		Type:         function.StaticReturnType(cty.Number),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			a, b := args[0].AsBigFloat(), args[1].AsBigFloat()
			if a.IsInt() && b.IsInt() {
				if prec := a.MinPrec() + b.MinPrec(); prec > 512 && prec <= maxNumberExp {
					return cty.NumberVal(new(big.Float).SetPrec(prec).Mul(a, b)), nil
				}
			}
			return stdlib.MultiplyFunc.Call(args)
		},
	}),
	Type: cty.Number,
}

// jsonMode says how appendJSON renders what JSON cannot hold.
type jsonMode int

const (
	jsonWire    jsonMode = iota // values are known and unmarked
	jsonDisplay                 // sensitive and unknown values become placeholder strings
)

// appendJSON appends v as compact JSON with exact numbers.
func appendJSON(b []byte, v cty.Value, mode jsonMode) []byte {
	if mode == jsonDisplay {
		if placeholder, ok := displayPlaceholder(v); ok {
			return strconv.AppendQuote(b, placeholder)
		}
	}
	v, _ = v.Unmark()
	if v.IsNull() {
		return append(b, "null"...)
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return appendJSONString(b, v.AsString(), mode)
	case ty == cty.Number:
		return append(b, NumberText(v.AsBigFloat())...)
	case ty == cty.Bool:
		return strconv.AppendBool(b, v.True())
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		b = append(b, '[')
		first := true
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSON(b, ev, mode)
		}
		return append(b, ']')
	case ty.IsMapType() || ty.IsObjectType():
		b = append(b, '{')
		first := true
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k.AsString(), mode)
			b = append(b, ':')
			b = appendJSON(b, ev, mode)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendJSONString appends s as a JSON string. On the wire, &, < and > are
// sent as they are, as okru.Params sends attachments: ok.ru signs the text
// as sent, and there is no HTML page to protect. Display keeps
// encoding/json's escaping, which shard keys and journal hashes were
// computed with.
func appendJSONString(b []byte, s string, mode jsonMode) []byte {
	if mode != jsonWire {
		enc, _ := json.Marshal(s)
		return append(b, enc...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// DisplayJSON renders v as JSON for people and machines reading plans and
// outputs: sensitive values become "(sensitive)" and values not known yet
// "(known after call.NAME)".
func DisplayJSON(v cty.Value) json.RawMessage { return appendJSON(nil, v, jsonDisplay) }

// sensitiveMark marks values that must never be shown: session credentials,
// sensitive variables and everything computed from them.
type sensitiveMark struct{}

// knownAfterMark marks an unknown value during planning with the step whose
// result it waits for, so the plan can say "(known after call.members)".
type knownAfterMark struct{ addr Address }

// Sensitive marks v as sensitive: it is then shown as "(sensitive)"
// everywhere, and so is every value computed from it.
func Sensitive(v cty.Value) cty.Value { return v.Mark(sensitiveMark{}) }

// IsSensitive reports whether v or anything inside it is sensitive.
func IsSensitive(v cty.Value) bool { return v.HasMarkDeep(sensitiveMark{}) }

// IsMarkedSensitive reports whether v itself, not a part of it, is
// marked sensitive: enough for a set, whose elements' marks cty moves to
// the set, without walking (and sorting) its elements.
func IsMarkedSensitive(v cty.Value) bool { return v.HasMark(sensitiveMark{}) }

// UnknownAfter returns an unknown value of type ty that is known once the
// step at addr has run.
func UnknownAfter(ty cty.Type, addr Address) cty.Value {
	return cty.UnknownVal(ty).Mark(knownAfterMark{addr})
}

// KnownAfter returns the steps an unknown value waits for, sorted.
func KnownAfter(v cty.Value) []Address {
	var out []Address
	for m := range cty.ValueMarksOfTypeDeep[knownAfterMark](v) {
		if !slices.Contains(out, m.addr) {
			out = append(out, m.addr)
		}
	}
	slices.SortFunc(out, func(a, b Address) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// WithoutPlanMarks removes the marks planning adds, keeping sensitivity.
func WithoutPlanMarks(v cty.Value) cty.Value {
	if !v.ContainsMarked() {
		return v
	}
	v, pvm := v.UnmarkDeepWithPaths()
	var keep []cty.PathValueMarks
	for _, p := range pvm {
		if p.Marks.Has(sensitiveMark{}) {
			keep = append(keep, cty.PathValueMarks{Path: p.Path, Marks: cty.NewValueMarks(sensitiveMark{})})
		}
	}
	return v.MarkWithPaths(keep)
}

// displayPlaceholder returns what to show instead of v when v is sensitive
// or not known yet.
func displayPlaceholder(v cty.Value) (string, bool) {
	if v.HasMark(sensitiveMark{}) {
		return "(sensitive)", true
	}
	if v.IsKnown() {
		return "", false
	}
	return knownAfterText(v), true
}

func knownAfterText(v cty.Value) string {
	addrs := KnownAfter(v)
	if len(addrs) == 0 {
		return "(known after run)"
	}
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.String()
	}
	return "(known after " + strings.Join(names, ", ") + ")"
}

// FormatValue renders v in HCL syntax for plans and human output, on
// several lines for objects and long lists, indented by indent spaces after
// the first line. Sensitive values show as (sensitive), unknown ones as
// (known after call.NAME).
func FormatValue(v cty.Value, indent int) string {
	var b strings.Builder
	writeValue(&b, v, indent)
	return b.String()
}

func writeValue(b *strings.Builder, v cty.Value, indent int) {
	if s, ok := displayPlaceholder(v); ok {
		b.WriteString(s)
		return
	}
	v, _ = v.Unmark()
	if v.IsNull() {
		b.WriteString("null")
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		b.WriteString(QuoteString(v.AsString()))
	case ty.IsPrimitiveType():
		b.WriteString(primitiveText(v))
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		writeList(b, v, indent)
	default:
		writeObject(b, v, indent)
	}
}

func writeList(b *strings.Builder, v cty.Value, indent int) {
	if v.LengthInt() == 0 {
		b.WriteString("[]")
		return
	}
	// Short lists of primitives stay on one line.
	var line strings.Builder
	short := true
	line.WriteByte('[')
	for it := v.ElementIterator(); it.Next() && short; {
		_, ev := it.Element()
		uv, _ := ev.Unmark()
		if !uv.Type().IsPrimitiveType() && uv.IsKnown() && !uv.IsNull() && !ev.IsMarked() {
			short = false
			break
		}
		if line.Len() > 1 {
			line.WriteString(", ")
		}
		writeValue(&line, ev, 0)
		if line.Len() > 80 {
			short = false
		}
	}
	if short {
		b.WriteString(line.String())
		b.WriteByte(']')
		return
	}
	pad := strings.Repeat(" ", indent+2)
	b.WriteString("[\n")
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		b.WriteString(pad)
		writeValue(b, ev, indent+2)
		b.WriteString(",\n")
	}
	b.WriteString(strings.Repeat(" ", indent))
	b.WriteByte(']')
}

func writeObject(b *strings.Builder, v cty.Value, indent int) {
	if v.LengthInt() == 0 {
		b.WriteString("{}")
		return
	}
	width := 0
	for it := v.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		width = max(width, utf8.RuneCountInString(objectKey(k.AsString())))
	}
	pad := strings.Repeat(" ", indent+2)
	b.WriteString("{\n")
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		key := objectKey(k.AsString())
		b.WriteString(pad)
		b.WriteString(key)
		b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(key)))
		b.WriteString(" = ")
		writeValue(b, ev, indent+2)
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat(" ", indent))
	b.WriteByte('}')
}

// objectKey writes an attribute name bare when HCL allows it, else quoted.
func objectKey(k string) string {
	if isIdentifier(k) {
		return k
	}
	return QuoteString(k)
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// QuoteString quotes s as an HCL string literal.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WithKnownAfter marks every unknown part of v that does not yet say what
// it waits for as known after addrs. Some functions and for expressions
// drop marks on unknown values; the engine calls this with the steps an
// expression depends on, so a plan can still say what to wait for.
func WithKnownAfter(v cty.Value, addrs []Address) cty.Value {
	if len(addrs) == 0 || v.IsWhollyKnown() {
		return v
	}
	uv, marks := v.Unmark()
	if !uv.IsKnown() {
		for m := range marks {
			if _, ok := m.(knownAfterMark); ok {
				return v
			}
		}
		for _, a := range addrs {
			v = v.Mark(knownAfterMark{a})
		}
		return v
	}
	if uv.IsNull() {
		return v
	}
	ty := uv.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType():
		elems := uv.AsValueSlice()
		for i, e := range elems {
			elems[i] = WithKnownAfter(e, addrs)
		}
		if ty.IsListType() {
			return cty.ListVal(elems).WithMarks(marks)
		}
		return cty.TupleVal(elems).WithMarks(marks)
	case ty.IsMapType() || ty.IsObjectType():
		attrs := uv.AsValueMap()
		for k, e := range attrs {
			attrs[k] = WithKnownAfter(e, addrs)
		}
		if ty.IsMapType() {
			return cty.MapVal(attrs).WithMarks(marks)
		}
		return cty.ObjectVal(attrs).WithMarks(marks)
	}
	return v
}
