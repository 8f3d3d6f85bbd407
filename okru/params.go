package okru

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Params are the parameters of one call. Values are turned into the exact
// strings that are sent and signed:
//
//   - string, []byte: as is
//   - bool: "true" or "false"
//   - integers and floats: decimal, floats without exponent where possible
//   - a named type of one of these kinds: by its value, even when it has a
//     String method: String is for people (okru.Code's says
//     "PARAM_SESSION_EXPIRED"), the value is what ok.ru knows (102)
//   - json.Number: its text
//   - any other fmt.Stringer (*big.Int, net.IP): its String()
//   - time.Time: an error, not a guess: ok.ru's methods take dates in
//     different forms, and its String() carries a monotonic clock reading;
//     send t.Unix() or t.Format with the layout the method documents
//   - a slice or array of the above: its elements joined with commas
//   - json.RawMessage: its compact JSON text
//   - any other map or struct: its compact JSON encoding (attachments)
//   - nil, or a nil pointer: the parameter is left out
//
// Zero, false and empty values are sent, never dropped.
type Params map[string]any

// EncodeValue returns the wire string of one parameter value, by the rules
// of Params. ok is false for nil, which means "not sent".
func EncodeValue(v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case []byte:
		return string(x), true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case uint64:
		return strconv.FormatUint(x, 10), true, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	case json.Number:
		return x.String(), true, nil
	case json.RawMessage:
		return compactJSON(x)
	case []string:
		return strings.Join(x, ","), true, nil
	case time.Time:
		return "", false, errors.New("a time.Time has no one wire form at ok.ru: send t.Unix() or t.Format with the layout the method documents")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", false, nil
		}
		// A pointer is sent as what it points to (a *Code as a Code, a
		// *time.Time refused as a time.Time), unless String is defined on
		// the pointer alone, as *big.Int's is.
		if _, ok := v.(fmt.Stringer); !ok || rv.Elem().Type().Implements(stringerType) {
			return EncodeValue(rv.Elem().Interface())
		}
	}
	if s, ok := encodeScalar(rv); ok {
		return s, true, nil
	}
	if x, ok := v.(fmt.Stringer); ok {
		return x.String(), true, nil
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			s, ok, err := EncodeValue(rv.Index(i).Interface())
			if err != nil {
				return "", false, err
			}
			if !ok {
				return "", false, fmt.Errorf("element %d of a list is nil", i)
			}
			if isComposite(rv.Index(i)) {
				// A list of objects is JSON, not a comma list.
				b, err := marshalJSON(v)
				if err != nil {
					return "", false, err
				}
				return string(b), true, nil
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), true, nil
	}
	b, err := marshalJSON(v)
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

var stringerType = reflect.TypeFor[fmt.Stringer]()

// encodeScalar formats a value of a named integer, float, string or bool
// type by its kind.
func encodeScalar(rv reflect.Value) (string, bool) {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 32), true
	case reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), true
	case reflect.String:
		return rv.String(), true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	}
	return "", false
}

func isComposite(v reflect.Value) bool {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map, reflect.Struct:
		return true
	}
	return false
}

// marshalJSON encodes an attachment compactly and without json.Marshal's
// HTML escaping: ok.ru shows the text as given, and "&" is easier to read
// and to sign by hand than "\u0026".
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func compactJSON(raw json.RawMessage) (string, bool, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", false, err
	}
	return b.String(), true, nil
}

// encode turns params into wire strings.
func (p Params) encode() (map[string]string, error) {
	out := make(map[string]string, len(p)+6)
	for k, v := range p {
		s, ok, err := EncodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		if ok {
			out[k] = s
		}
	}
	return out, nil
}
