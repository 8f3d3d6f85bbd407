package lua

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	glua "github.com/yuin/gopher-lua"
)

// maxDepth bounds the nesting of converted values. It is the limit of
// encoding/json's decoder, so that everything a script returns can be read
// back by the engine.
const maxDepth = 10000

// maxExactInteger is 2^53: every integer up to it in magnitude is a float64,
// and so a Lua number, without loss. Larger whole numbers cross as strings.
const maxExactInteger = 1 << 53

// jsonTypeField is the metatable field that marks a table as a JSON object,
// so that it encodes as {} when empty. json.object sets it; a script may set
// it in its own metatables.
const jsonTypeField = "__json"

// nullValue is the Go value inside the json.null userdata.
type nullValue struct{}

// convError is a conversion failure at a path inside the value.
type convError struct {
	path string
	msg  string
}

func (e *convError) Error() string { return e.path + ": " + e.msg }

// pathElem is one step into a value: an object key, or a 1-based array index
// when index > 0.
type pathElem struct {
	key   string
	index int
}

// path names the place of a value inside a bigger one, as a Lua expression
// ("result.users[3].name"). It is rendered only when an error needs it.
type path struct {
	root  string
	elems []pathElem
}

func (p *path) pushKey(k string) { p.elems = append(p.elems, pathElem{key: k}) }
func (p *path) pushIndex(i int)  { p.elems = append(p.elems, pathElem{index: i}) }
func (p *path) pop()             { p.elems = p.elems[:len(p.elems)-1] }

func (p *path) String() string { return p.prefix(len(p.elems)) }

// prefix renders the path up to (not including) element n.
func (p *path) prefix(n int) string {
	var b strings.Builder
	b.WriteString(p.root)
	for _, e := range p.elems[:n] {
		switch {
		case e.index > 0:
			fmt.Fprintf(&b, "[%d]", e.index)
		case isIdentifier(e.key):
			b.WriteByte('.')
			b.WriteString(e.key)
		default:
			fmt.Fprintf(&b, "[%q]", e.key)
		}
	}
	return b.String()
}

func (p *path) errorf(format string, args ...any) error {
	return &convError{path: p.String(), msg: fmt.Sprintf(format, args...)}
}

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

func isIdentifier(s string) bool {
	if s == "" || luaKeywords[s] {
		return false
	}
	for i, c := range []byte(s) {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ---- JSON and Go values to Lua ----

// decodeJSON turns one JSON text into a Lua value by the rules of the
// package doc.
func (r *runtime) decodeJSON(data []byte, root string) (glua.LValue, error) {
	v, err := decodeJSONValue(data)
	if err != nil {
		return glua.LNil, err
	}
	return r.toLua(v, &path{root: root}, 0)
}

// decodeJSONValue decodes exactly one JSON value, keeping numbers as
// json.Number so that no digit is lost before toLua decides.
func decodeJSONValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no JSON value (empty input)")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// answerError says why an API answer could not become a Lua value: a
// number beyond float64 names its path, anything else is not JSON.
func answerError(err error) string {
	if _, ok := errors.AsType[*convError](err); ok {
		return err.Error()
	}
	return "the answer is not valid JSON: " + err.Error()
}

// toLua converts a Go value of the JSON family (and Go numbers, strings,
// slices and string-keyed maps) to Lua.
func (r *runtime) toLua(v any, p *path, depth int) (glua.LValue, error) {
	if depth > maxDepth {
		return glua.LNil, p.errorf("nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return glua.LNil, nil
	case bool:
		return glua.LBool(x), nil
	case string:
		return glua.LString(x), nil
	case json.Number:
		return numberToLua(string(x), p)
	case float64:
		return floatToLua(x, p)
	case float32:
		return floatToLua(float64(x), p)
	case int:
		return intToLua(int64(x)), nil
	case int64:
		return intToLua(x), nil
	case uint64:
		if x > maxExactInteger {
			return glua.LString(strconv.FormatUint(x, 10)), nil
		}
		return glua.LNumber(x), nil
	case json.RawMessage:
		inner, err := decodeJSONValue(x)
		if err != nil {
			return glua.LNil, p.errorf("invalid JSON: %v", err)
		}
		return r.toLua(inner, p, depth)
	case map[string]any:
		t := r.L.CreateTable(0, len(x))
		t.Metatable = r.objectMT
		for k, elem := range x {
			p.pushKey(k)
			lv, err := r.toLua(elem, p, depth+1)
			p.pop()
			if err != nil {
				return glua.LNil, err
			}
			if lv != glua.LNil {
				t.RawSetString(k, lv)
			}
		}
		return t, nil
	case []any:
		t := r.L.CreateTable(len(x), 0)
		for i, elem := range x {
			p.pushIndex(i + 1)
			lv, err := r.toLua(elem, p, depth+1)
			p.pop()
			if err != nil {
				return glua.LNil, err
			}
			if lv == glua.LNil {
				lv = r.null
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	}
	return r.reflectToLua(reflect.ValueOf(v), p, depth)
}

// reflectToLua handles the Go values a host may hand over as Input that are
// not of the JSON family: other integer kinds, typed slices and maps with
// string keys.
func (r *runtime) reflectToLua(rv reflect.Value, p *path, depth int) (glua.LValue, error) {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intToLua(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return r.toLua(rv.Uint(), p, depth)
	case reflect.Float32, reflect.Float64:
		return floatToLua(rv.Float(), p)
	case reflect.String:
		return glua.LString(rv.String()), nil
	case reflect.Bool:
		return glua.LBool(rv.Bool()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return glua.LNil, nil
		}
		return r.toLua(rv.Elem().Interface(), p, depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return glua.LNil, nil
		}
		elems := make([]any, rv.Len())
		for i := range elems {
			elems[i] = rv.Index(i).Interface()
		}
		return r.toLua(elems, p, depth)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return glua.LNil, p.errorf("a map with %s keys cannot become a Lua table (keys must be strings)", rv.Type().Key())
		}
		if rv.IsNil() {
			return glua.LNil, nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return r.toLua(m, p, depth)
	}
	return glua.LNil, p.errorf("a Go value of type %s cannot become a Lua value", rv.Type())
}

func intToLua(n int64) glua.LValue {
	if n > maxExactInteger || n < -maxExactInteger {
		return glua.LString(strconv.FormatInt(n, 10))
	}
	return glua.LNumber(n)
}

func floatToLua(f float64, p *path) (glua.LValue, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return glua.LNil, p.errorf("%v is not a JSON number", f)
	}
	if f == math.Trunc(f) && math.Abs(f) > maxExactInteger {
		return glua.LString(formatNumber(f)), nil
	}
	return glua.LNumber(f), nil
}

// numberToLua converts the text of a JSON number. It becomes a Lua number
// when float64 holds its value exactly (to the digit: "0.1" is held, as
// float64's shortest form of the parsed value is "0.1"; "0.10000000000000000001"
// is not) and, if it is whole, is at most 2^53 in magnitude. Otherwise it
// becomes a Lua string of the exact text, which is what ok.ru ids need.
//
// A number written with a point or an exponent that is beyond float64's
// range (1e400, 1e-400) is an error naming the path: as a string it would
// look like an id, and as a number it would be infinity or zero. A whole
// number written in digits is an id of any length and becomes a string.
func numberToLua(text string, p *path) (glua.LValue, error) {
	f, err := strconv.ParseFloat(text, 64)
	if isDigits(strings.TrimPrefix(text, "-")) && (err != nil || math.Abs(f) > maxExactInteger) {
		return glua.LString(text), nil
	}
	_, digits, _, ok := normalizeDecimal(text)
	if errors.Is(err, strconv.ErrRange) || ok && f == 0 && digits != "" {
		return glua.LNil, p.errorf("%.40s is out of the range of a Lua number (float64)", text)
	}
	if err != nil || !sameDecimal(text, f) {
		return glua.LString(text), nil
	}
	if f == math.Trunc(f) && math.Abs(f) > maxExactInteger {
		return glua.LString(text), nil
	}
	return glua.LNumber(f), nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// sameDecimal reports whether the decimal text denotes exactly the value of
// float64's shortest decimal form of f.
func sameDecimal(text string, f float64) bool {
	tn, td, te, ok := normalizeDecimal(text)
	if !ok {
		return false
	}
	if td == "" { // zero, whatever the exponent
		return f == 0
	}
	fn, fd, fe, ok := normalizeDecimal(strconv.FormatFloat(f, 'e', -1, 64))
	return ok && tn == fn && td == fd && te == fe
}

// normalizeDecimal splits a JSON number into sign, significant digits
// without leading or trailing zeros, and the exponent e such that the value
// is 0.digits × 10^e. digits is "" for zero. ok is false for text that is not
// a JSON number or whose exponent does not fit an int32.
func normalizeDecimal(s string) (neg bool, digits string, exp int, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return false, "", 0, false
	}
	all := intPart + frac
	trimmed := strings.TrimLeft(all, "0")
	digits = strings.TrimRight(trimmed, "0")
	if hasExp {
		n, err := strconv.ParseInt(expText, 10, 32)
		if err != nil && (digits != "" || strings.Trim(strings.TrimLeft(expText, "+-"), "0123456789") != "") {
			return false, "", 0, false
		}
		exp = int(n)
	}
	if digits == "" {
		return neg, "", 0, true
	}
	return neg, digits, exp + len(intPart) - (len(all) - len(trimmed)), true
}

// formatNumber writes a Lua number as JSON does: whole numbers without a
// decimal point, the shortest digits that read back to the same float64, and
// exponents only for very small or very large magnitudes.
func formatNumber(f float64) string {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// "1e-07" -> "1e-7", as encoding/json writes it.
		if n := len(s); n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
			s = s[:n-2] + s[n-1:]
		}
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ---- Lua to Go and JSON ----

// encoder converts a Lua value to a Go value of the JSON family. It keeps
// the running JSON size below limit, so that a value that shares one table
// many times (a DAG whose JSON text grows exponentially) fails fast instead
// of exhausting memory.
type encoder struct {
	r     *runtime
	limit int
	size  int
	path  path
	open  map[*glua.LTable]int // tables being converted → their path length
}

func (r *runtime) newEncoder(root string) *encoder {
	return &encoder{r: r, limit: r.limit, path: path{root: root}, open: map[*glua.LTable]int{}}
}

// encodeJSON converts v and writes it as compact JSON.
func (r *runtime) encodeJSON(v glua.LValue, root string) ([]byte, error) {
	e := r.newEncoder(root)
	g, err := e.value(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > r.limit {
		return nil, e.tooLarge()
	}
	return out, nil
}

func (e *encoder) tooLarge() error {
	return &convError{path: e.path.root, msg: fmt.Sprintf("larger than the %s limit (MaxResultBytes); return or send less data", formatBytes(e.limit))}
}

func (e *encoder) grow(n int) error {
	e.size += n
	if e.size > e.limit {
		return e.tooLarge()
	}
	return nil
}

func (e *encoder) value(v glua.LValue) (any, error) {
	switch x := v.(type) {
	case *glua.LNilType:
		return nil, e.grow(4)
	case glua.LBool:
		return bool(x), e.grow(5)
	case glua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, e.path.errorf("%s is not a JSON number", formatLuaNumber(f))
		}
		s := formatNumber(f)
		return json.Number(s), e.grow(len(s))
	case glua.LString:
		if !utf8.ValidString(string(x)) {
			return nil, e.path.errorf("string is not valid UTF-8 (string.sub and string.byte count bytes, not characters: was a character cut in half?)")
		}
		return string(x), e.grow(len(x) + 2)
	case *glua.LTable:
		return e.table(x)
	case *glua.LUserData:
		switch u := x.Value.(type) {
		case nullValue:
			return nil, e.grow(4)
		case *callError:
			// An API error a script returns (e.g. a list of failures).
			m := u.fields()
			return m, e.grow(len(u.method) + len(u.message()) + 100)
		}
		return nil, e.path.errorf("userdata cannot be converted to JSON")
	}
	return nil, e.path.errorf("a %s cannot be converted to JSON", v.Type())
}

func formatLuaNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	}
	return "-inf"
}

// isObject reports whether t is marked as a JSON object (json.object, or
// __json = "object" in its metatable).
func isObject(t *glua.LTable) bool {
	mt, ok := t.Metatable.(*glua.LTable)
	return ok && mt.RawGetString(jsonTypeField) == glua.LString("object")
}

// tableShape is what a table's keys say about its JSON form.
type tableShape struct {
	strings, ints, maxInt int
	badKey                glua.LValue // the first key that is neither a string nor a positive integer
}

func shapeOf(t *glua.LTable) tableShape {
	var s tableShape
	t.ForEach(func(k, _ glua.LValue) {
		switch key := k.(type) {
		case glua.LString:
			s.strings++
			return
		case glua.LNumber:
			f := float64(key)
			if f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32 {
				s.ints++
				s.maxInt = max(s.maxInt, int(f))
				return
			}
		}
		if s.badKey == nil {
			s.badKey = k
		}
	})
	return s
}

func describeKey(k glua.LValue) string {
	if n, ok := k.(glua.LNumber); ok {
		return "number key " + formatLuaKey(float64(n))
	}
	return k.Type().String() + " key"
}

func formatLuaKey(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return formatLuaNumber(f)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func (e *encoder) table(t *glua.LTable) (any, error) {
	if at, ok := e.open[t]; ok {
		return nil, e.path.errorf("cycle: the table contains itself (it is %s)", e.path.prefix(at))
	}
	if len(e.path.elems) >= maxDepth {
		return nil, e.path.errorf("nested deeper than %d levels", maxDepth)
	}
	e.open[t] = len(e.path.elems)
	defer delete(e.open, t)
	if err := e.grow(2); err != nil {
		return nil, err
	}

	s := shapeOf(t)
	switch {
	case s.badKey != nil:
		return nil, e.path.errorf("%s cannot be a JSON key: use string keys for objects and 1..n for arrays", describeKey(s.badKey))
	case isObject(t) && s.ints > 0:
		return nil, e.path.errorf("table marked as a JSON object has number key %d: use string keys (tostring(k))", firstIntKey(t))
	case s.strings > 0 && s.ints > 0:
		return nil, e.path.errorf("table mixes string keys and array indexes (e.g. %d): use one or the other", firstIntKey(t))
	case s.ints > 0:
		return e.array(t, s)
	case s.strings > 0 || isObject(t):
		return e.object(t, s.strings)
	}
	return []any{}, nil
}

// firstIntKey returns the smallest number key of t, for error messages.
func firstIntKey(t *glua.LTable) int {
	first := 0
	t.ForEach(func(k, _ glua.LValue) {
		if n, ok := k.(glua.LNumber); ok && (first == 0 || int(n) < first) {
			first = int(n)
		}
	})
	return first
}

func (e *encoder) array(t *glua.LTable, s tableShape) (any, error) {
	if s.maxInt != s.ints {
		hole := 1
		for t.RawGetInt(hole) != glua.LNil {
			hole++
		}
		return nil, e.path.errorf("sparse array: index %d is missing but the highest index is %d (use json.null for holes, or string keys for an object)", hole, s.maxInt)
	}
	out := make([]any, s.ints)
	for i := range out {
		e.path.pushIndex(i + 1)
		v, err := e.value(t.RawGetInt(i + 1))
		e.path.pop()
		if err != nil {
			return nil, err
		}
		out[i] = v
		if err := e.grow(1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *encoder) object(t *glua.LTable, n int) (any, error) {
	keys := make([]string, 0, n)
	t.ForEach(func(k, _ glua.LValue) { keys = append(keys, string(k.(glua.LString))) })
	// Sorted so that errors are deterministic; encoding/json sorts the output anyway.
	slices.Sort(keys)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return nil, e.path.errorf("key %q is not valid UTF-8", k)
		}
		if err := e.grow(len(k) + 4); err != nil {
			return nil, err
		}
		e.path.pushKey(k)
		v, err := e.value(t.RawGetString(k))
		e.path.pop()
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// params converts the params argument of okru.call: nil or a table with
// string keys (an empty table is fine).
func (r *runtime) params(v glua.LValue) (map[string]any, error) {
	if v == glua.LNil {
		return map[string]any{}, nil
	}
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, fmt.Errorf("params must be a table, not a %s", v.Type())
	}
	e := r.newEncoder("params")
	g, err := e.table(t)
	if err != nil {
		return nil, err
	}
	switch m := g.(type) {
	case map[string]any:
		return m, nil
	case []any:
		if len(m) == 0 {
			return map[string]any{}, nil
		}
	}
	return nil, errors.New("params must be a table with string keys, like {uids = \"1,2\"}, not an array")
}

func formatBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
