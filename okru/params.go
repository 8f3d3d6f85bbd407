package okru

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Params are the parameters of one call. Values are turned into the exact
// strings that are sent and signed. This is the project's only encoder of
// parameter values: the workflow language and Lua hand okru plain Go
// values, so that one value has one wire form whichever way it came.
//
//   - string, []byte: as is
//   - bool: "true" or "false"
//   - numbers in plain decimal, never with an exponent: integers of any
//     size (int, uint64, *big.Int, json.Number, a whole *big.Float) as their
//     digits; other floats in the shortest form that reads back to the same
//     value ("0.1"); 1e21 is "1000000000000000000000" and -0 is "0". NaN and
//     infinities are an error, not a guess
//   - json.Number is exact: its text, normalized as above ("1.50e1" is "15")
//   - a named type of one of these kinds: by its value, even when it has a
//     String method: String is for people (okru.Code's says
//     "PARAM_SESSION_EXPIRED"), the value is what ok.ru knows (102)
//   - any other fmt.Stringer (net.IP): its String()
//   - time.Time: an error, not a guess: ok.ru's methods take dates in
//     different forms, and its String() carries a monotonic clock reading;
//     send t.Unix() or t.Format with the layout the method documents
//   - a slice or array of scalars: its elements joined with commas, as
//     ok.ru's list parameters (uids=1,2,3) expect; an empty list is ""
//   - a list holding a list or an object ([[1,2],[3]]), a map with string
//     keys, a struct: compact JSON (attachments), with numbers as above,
//     keys of maps sorted, and &, < and > as they are
//   - json.RawMessage: its compact JSON text
//   - nil, or a nil pointer: the parameter is left out
//
// Zero, false and empty values are sent, never dropped. A value that has no
// wire form (NaN, a map with number keys, a cycle, a channel) is an error
// naming the parameter, returned before anything is sent.
type Params map[string]any

// EncodeValue returns the wire string of one parameter value, by the rules
// of Params. ok is false for nil, which means "not sent".
func EncodeValue(v any) (s string, ok bool, err error) {
	// The common kinds first, without reflection: most parameters are
	// strings and ids.
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	}
	e := valueEncoder{}
	b, ok, err := e.param(nil, reflect.ValueOf(v))
	if err != nil || !ok {
		return "", false, err
	}
	return string(b), true, nil
}

// maxExpDigits bounds the zeros a number's exponent may add to its plain
// decimal form: "1e1000000000" would otherwise become a gigabyte of zeros.
const maxExpDigits = 10000

// maxDepth bounds the nesting of a value, as encoding/json's decoder does.
const maxDepth = 10000

var (
	stringerType      = reflect.TypeFor[fmt.Stringer]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
	bigIntType        = reflect.TypeFor[big.Int]()
	bigFloatType      = reflect.TypeFor[big.Float]()
	bigIntPtrType     = reflect.TypeFor[*big.Int]()
	bigFloatPtrType   = reflect.TypeFor[*big.Float]()
)

var errTime = errors.New("a time.Time has no one wire form at ok.ru: send t.Unix() or t.Format with the layout the method documents")

// valueEncoder writes one parameter value. It keeps the path to the part
// being written, for errors, and the maps, slices and pointers it is inside
// of, to refuse a value that contains itself.
type valueEncoder struct {
	path  []string
	open  map[openKey]bool
	depth int
}

type openKey struct {
	ptr uintptr
	typ reflect.Type
	len int
}

// valueError is a value that has no wire form, and where in the value.
type valueError struct {
	path string // ["key"][2], or "" for the value itself
	msg  string
}

func (e *valueError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "at " + e.path + ": " + e.msg
}

// errorf returns an error naming where in the value it happened.
func (e *valueEncoder) errorf(format string, args ...any) error {
	return &valueError{path: strings.Join(e.path, ""), msg: fmt.Sprintf(format, args...)}
}

// param writes a top-level value: scalars as text, lists of scalars joined
// with commas, everything else as JSON.
func (e *valueEncoder) param(b []byte, rv reflect.Value) ([]byte, bool, error) {
	rv, ok := deref(rv)
	if !ok {
		return nil, false, nil
	}
	if b, ok, err := e.scalar(b, rv, false); ok || err != nil {
		return b, err == nil, err
	}
	if rv.Type().Implements(stringerType) && !isList(rv) && !isJSONish(rv.Type()) {
		return append(b, rv.Interface().(fmt.Stringer).String()...), true, nil
	}
	if isList(rv) && !listOfComposites(rv) {
		if rv.Type().Implements(stringerType) {
			// net.IP and the like are lists only by their representation.
			return append(b, rv.Interface().(fmt.Stringer).String()...), true, nil
		}
		b, err := e.commaList(b, rv)
		return b, err == nil, err
	}
	b, err := e.json(b, rv)
	return b, err == nil, err
}

// deref follows pointers and interfaces. ok is false for nil.
func deref(rv reflect.Value) (reflect.Value, bool) {
	for rv.IsValid() && (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) {
		if rv.IsNil() {
			return rv, false
		}
		if rv.Kind() == reflect.Pointer {
			t := rv.Type()
			// A pointer is sent as what it points to, unless it is the
			// pointer that has the String method (*big.Int's, say) and
			// the value it points to does not.
			if t == bigIntPtrType || t == bigFloatPtrType {
				return rv, true
			}
			if t.Implements(stringerType) && !t.Elem().Implements(stringerType) && !isScalarKind(t.Elem().Kind()) {
				return rv, true
			}
		}
		rv = rv.Elem()
	}
	return rv, rv.IsValid()
}

// scalar writes a string, bool or number. done is false for other kinds.
// inJSON quotes strings.
func (e *valueEncoder) scalar(b []byte, rv reflect.Value, inJSON bool) (out []byte, done bool, err error) {
	switch rv.Type() {
	case timeType:
		return nil, true, e.errorf("%s", errTime)
	case numberType:
		b, err := e.numberText(b, rv.String())
		return b, true, err
	case rawMessageType:
		b, err := e.rawJSON(b, rv.Bytes())
		return b, true, err
	case bigIntPtrType:
		return append(b, rv.Interface().(*big.Int).String()...), true, nil
	case bigIntType:
		x := rv.Interface().(big.Int)
		return append(b, x.String()...), true, nil
	case bigFloatPtrType:
		b, err := e.bigFloat(b, rv.Interface().(*big.Float))
		return b, true, err
	case bigFloatType:
		x := rv.Interface().(big.Float)
		b, err := e.bigFloat(b, &x)
		return b, true, err
	}
	switch rv.Kind() {
	case reflect.String:
		if inJSON {
			b, err := e.quote(b, rv.String())
			return b, true, err
		}
		return append(b, rv.String()...), true, nil
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool()), true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10), true, nil
	case reflect.Float32:
		b, err := e.float(b, rv.Float(), 32)
		return b, true, err
	case reflect.Float64:
		b, err := e.float(b, rv.Float(), 64)
		return b, true, err
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 && !rv.Type().Implements(stringerType) {
			// []byte: its bytes, as a string.
			if inJSON {
				b, err := e.quote(b, string(rv.Bytes()))
				return b, true, err
			}
			return append(b, rv.Bytes()...), true, nil
		}
	}
	return b, false, nil
}

func isScalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func isList(rv reflect.Value) bool {
	return rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array
}

// isJSONish reports whether t is written as JSON by its own methods.
func isJSONish(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType)
}

// knownType reports whether t is one of the types okru writes by its own
// rules, whatever methods it has.
func knownType(t reflect.Type) bool {
	switch t {
	case timeType, numberType, rawMessageType, bigIntType, bigFloatType, bigIntPtrType, bigFloatPtrType:
		return true
	}
	return false
}

// hasOwnJSON reports whether encoding/json writes t by t's own methods,
// which then decide its JSON form, unless okru knows the type better.
func hasOwnJSON(t reflect.Type) bool {
	if knownType(t) {
		return false
	}
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(jsonMarshalerType) || pt.Implements(textMarshalerType)
}

// listOfComposites reports whether a list holds a list or an object, and
// so is sent as JSON rather than joined with commas.
func listOfComposites(rv reflect.Value) bool {
	for i := range rv.Len() {
		ev := rv.Index(i)
		for ev.Kind() == reflect.Interface || ev.Kind() == reflect.Pointer {
			if ev.IsNil() {
				break
			}
			if ev.Kind() == reflect.Pointer && (ev.Type().Elem() == bigIntType || ev.Type().Elem() == bigFloatType) {
				break
			}
			ev = ev.Elem()
		}
		switch ev.Type() {
		case rawMessageType:
			return true
		case numberType, timeType, bigIntType, bigFloatType:
			continue
		}
		switch ev.Kind() {
		case reflect.Map, reflect.Struct:
			return true
		case reflect.Slice, reflect.Array:
			if ev.Type().Elem().Kind() != reflect.Uint8 {
				return true
			}
		}
	}
	return false
}

// commaList writes the elements of a list of scalars joined with commas.
func (e *valueEncoder) commaList(b []byte, rv reflect.Value) ([]byte, error) {
	for i := range rv.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		e.path = append(e.path, "["+strconv.Itoa(i)+"]")
		ev, ok := deref(rv.Index(i))
		var err error
		if !ok {
			err = e.errorf("null in a list: a list parameter is sent as its elements joined with commas, and null has no text")
		}
		if err == nil {
			var done bool
			b, done, err = e.scalar(b, ev, false)
			if err == nil && !done {
				if s, isStringer := ev.Interface().(fmt.Stringer); isStringer {
					b = append(b, s.String()...)
				} else {
					err = e.errorf("a %s has no wire form", ev.Type())
				}
			}
		}
		if err != nil {
			return nil, err
		}
		e.path = e.path[:len(e.path)-1]
	}
	return b, nil
}

// json writes rv as compact JSON with exact, plain numbers.
func (e *valueEncoder) json(b []byte, rv reflect.Value) ([]byte, error) {
	if e.depth >= maxDepth {
		return nil, e.errorf("nested deeper than %d levels", maxDepth)
	}
	rv, ok := deref(rv)
	if !ok {
		return append(b, "null"...), nil
	}
	t := rv.Type()
	if hasOwnJSON(t) || rv.Kind() == reflect.Pointer && !knownType(t) {
		// MarshalJSON decides, as inside a struct; a pointer left by
		// deref is one with its own String method.
		return e.marshaled(b, rv)
	}
	if b, done, err := e.scalar(b, rv, true); done || err != nil {
		return b, err
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return e.jsonList(b, rv)
	case reflect.Map:
		return e.jsonObject(b, rv)
	case reflect.Struct:
		return e.marshaled(b, rv)
	}
	return nil, e.errorf("a %s has no wire form", t)
}

// enter records that the encoder is inside rv, refusing a value that
// contains itself.
func (e *valueEncoder) enter(rv reflect.Value) error {
	e.depth++
	if rv.Kind() == reflect.Array {
		return nil
	}
	k := openKey{ptr: rv.Pointer(), typ: rv.Type(), len: rv.Len()}
	if e.open == nil {
		e.open = map[openKey]bool{}
	}
	if e.open[k] {
		return e.errorf("the value contains itself (a cycle)")
	}
	e.open[k] = true
	return nil
}

func (e *valueEncoder) leave(rv reflect.Value) {
	e.depth--
	if rv.Kind() != reflect.Array {
		delete(e.open, openKey{ptr: rv.Pointer(), typ: rv.Type(), len: rv.Len()})
	}
}

func (e *valueEncoder) jsonList(b []byte, rv reflect.Value) ([]byte, error) {
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return append(b, "null"...), nil // as encoding/json writes it
	}
	if err := e.enter(rv); err != nil {
		return nil, err
	}
	defer e.leave(rv)
	b = append(b, '[')
	for i := range rv.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		e.path = append(e.path, "["+strconv.Itoa(i)+"]")
		var err error
		if b, err = e.json(b, rv.Index(i)); err != nil {
			return nil, err
		}
		e.path = e.path[:len(e.path)-1]
	}
	return append(b, ']'), nil
}

func (e *valueEncoder) jsonObject(b []byte, rv reflect.Value) ([]byte, error) {
	if kt := rv.Type().Key(); kt.Kind() != reflect.String {
		return nil, e.errorf("a map with %s keys has no wire form: JSON object keys are strings", kt)
	}
	if rv.IsNil() {
		return append(b, "null"...), nil
	}
	if err := e.enter(rv); err != nil {
		return nil, err
	}
	defer e.leave(rv)
	keys := make([]string, 0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		keys = append(keys, it.Key().String())
	}
	slices.Sort(keys)
	kt := rv.Type().Key()
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		e.path = append(e.path, "["+strconv.Quote(k)+"]")
		var err error
		if b, err = e.quote(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = e.json(b, rv.MapIndex(reflect.ValueOf(k).Convert(kt))); err != nil {
			return nil, err
		}
		e.path = e.path[:len(e.path)-1]
	}
	return append(b, '}'), nil
}

// marshaled writes a struct or a type with its own JSON or text form by
// encoding/json's rules (field tags, omitempty, MarshalJSON), then rewrites
// its numbers into the plain form, so that a float64 field of 1e21 is sent
// as a float64 parameter is.
func (e *valueEncoder) marshaled(b []byte, rv reflect.Value) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rv.Interface()); err != nil {
		return nil, e.errorf("%v", err)
	}
	return e.rawJSON(b, buf.Bytes())
}

// rawJSON writes JSON text compactly, keeping the order of its keys, with
// its numbers in the plain form.
func (e *valueEncoder) rawJSON(b []byte, raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	b, err := e.rawValue(b, dec, 0)
	if err != nil {
		return nil, e.errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, e.errorf("invalid JSON: more than one value")
	}
	return b, nil
}

func (e *valueEncoder) rawValue(b []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		b = append(b, byte(t))
		for first := true; dec.More(); first = false {
			if !first {
				b = append(b, ',')
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				if b, err = e.quote(b, key.(string)); err != nil {
					return nil, err
				}
				b = append(b, ':')
			}
			if b, err = e.rawValue(b, dec, depth+1); err != nil {
				return nil, err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return nil, err
		}
		return append(b, byte(end.(json.Delim))), nil
	case string:
		return e.quote(b, t)
	case json.Number:
		return e.numberText(b, string(t))
	case bool:
		return strconv.AppendBool(b, t), nil
	}
	return append(b, "null"...), nil
}

// quote writes s as a JSON string. &, < and > stay as they are: ok.ru signs
// the text as sent and shows it as given, and there is no HTML page to
// protect. A string that is not UTF-8 is an error: encoding/json would
// silently replace the bad bytes, changing what is sent.
func (e *valueEncoder) quote(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, e.errorf("a string inside JSON is not valid UTF-8")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			// As encoding/json writes them: JavaScript reads them as
			// line ends.
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// float writes a float in plain decimal with the fewest digits that read
// back to the same value (bits is 32 or 64).
func (e *valueEncoder) float(b []byte, f float64, bits int) ([]byte, error) {
	switch {
	case math.IsNaN(f):
		return nil, e.errorf("NaN is not a number ok.ru can take")
	case math.IsInf(f, 0):
		return nil, e.errorf("%v is not a number ok.ru can take", f)
	case f == 0:
		return append(b, '0'), nil // -0 too: there is no negative zero id
	}
	return strconv.AppendFloat(b, f, 'f', -1, bits), nil
}

// bigFloat writes x like float: whole numbers with all their digits as far
// as x's precision holds them, others with the fewest digits that read back
// to x at its precision.
func (e *valueEncoder) bigFloat(b []byte, x *big.Float) ([]byte, error) {
	switch {
	case x.IsInf():
		return nil, e.errorf("%v is not a number ok.ru can take", x)
	case x.Sign() == 0:
		return append(b, '0'), nil
	}
	if exp := x.MantExp(nil); exp > maxExpDigits*10/3 || exp < -maxExpDigits*10/3 {
		return nil, e.errorf("%s is out of range: more than %d digits", x.Text('g', 10), maxExpDigits)
	}
	return x.Append(b, 'f', -1), nil
}

// numberText writes the text of a JSON number in plain decimal: the same
// digits, without an exponent, leading zeros or trailing zeros after the
// point, so "1e21", "1000000000000000000000" and "1.0e21" are one text.
// It is exact: no digit is rounded.
func (e *valueEncoder) numberText(b []byte, text string) ([]byte, error) {
	s, err := PlainNumber(text)
	if err != nil {
		return nil, e.errorf("%v", err)
	}
	return append(b, s...), nil
}

// PlainNumber rewrites the text of a JSON number in the plain decimal form
// parameters are sent in (see Params): "1e21" is "1000000000000000000000",
// "1.50" is "1.5", "-0" is "0". No digit is rounded. Text that is not a
// JSON number, or whose exponent would add more than 10000 zeros, is an
// error.
func PlainNumber(text string) (string, error) {
	neg, digits, point, ok := splitNumber(text)
	if !ok {
		return "", fmt.Errorf("%q is not a number", excerptNumber(text))
	}
	if digits == "" {
		return "0", nil
	}
	if point > len(digits)+maxExpDigits || point < -maxExpDigits {
		return "", fmt.Errorf("%s is out of range: more than %d digits", excerptNumber(text), maxExpDigits)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String(), nil
}

func excerptNumber(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// splitNumber reads a JSON number into its sign, its significant digits
// (no leading or trailing zeros; "" for zero) and the position of the
// decimal point in them: the value is 0.digits × 10^point.
func splitNumber(s string) (neg bool, digits string, point int, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	end := 0
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	intPart := s[:end]
	if intPart == "" || len(intPart) > 1 && intPart[0] == '0' {
		return false, "", 0, false
	}
	s = s[end:]
	var frac string
	if strings.HasPrefix(s, ".") {
		end = 1
		for end < len(s) && isDigit(s[end]) {
			end++
		}
		frac, s = s[1:end], s[end:]
		if frac == "" {
			return false, "", 0, false
		}
	}
	exp := 0
	if s != "" {
		if s[0] != 'e' && s[0] != 'E' {
			return false, "", 0, false
		}
		s = s[1:]
		expNeg := false
		if s != "" && (s[0] == '+' || s[0] == '-') {
			expNeg, s = s[0] == '-', s[1:]
		}
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return false, "", 0, false
		}
		s = strings.TrimLeft(s, "0")
		if len(s) > 9 {
			s = "999999999" // far out of range either way
		}
		exp, _ = strconv.Atoi("0" + s)
		if expNeg {
			exp = -exp
		}
	}
	all := intPart + frac
	trimmed := strings.TrimLeft(all, "0")
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return neg, "", 0, true
	}
	return neg, digits, exp + len(intPart) - (len(all) - len(trimmed)), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// EncodeParam is EncodeValue for the parameter called name: its errors
// name the parameter and the place inside its value
// ("parameter attachment["media"][0]: NaN is not a number ok.ru can take").
func EncodeParam(name string, v any) (s string, ok bool, err error) {
	s, ok, err = EncodeValue(v)
	if ve, isValueErr := errors.AsType[*valueError](err); isValueErr {
		return "", false, fmt.Errorf("parameter %s%s: %s", name, ve.path, ve.msg)
	}
	if err != nil {
		return "", false, fmt.Errorf("parameter %s: %w", name, err)
	}
	return s, ok, nil
}

// encode turns params into wire strings. Every value is encoded before
// anything is sent, so a bad one stops the call whole.
func (p Params) encode() (map[string]string, error) {
	out := make(map[string]string, len(p)+6)
	for k, v := range p {
		s, ok, err := EncodeParam(k, v)
		if err != nil {
			return nil, err
		}
		if ok {
			out[k] = s
		}
	}
	return out, nil
}

// marshalJSON writes v as parameters write JSON: compact, with plain exact
// numbers, and &, < and > as they are.
func marshalJSON(v any) ([]byte, error) {
	e := valueEncoder{}
	return e.json(nil, reflect.ValueOf(v))
}
