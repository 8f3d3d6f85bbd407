package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// A JSON redactor hides a secret in the strings of a line as a consumer
// decodes them, at any depth of JSON quoted in JSON up to jsonInJSONDepth,
// and leaves a line with nothing to hide as it was.
func TestJSONRedactorDecodedStrings(t *testing.T) {
	t.Parallel()
	const secret = `Secret&Pass<1>"\x`
	quote := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	tests := []struct {
		name, line string
		same       bool // nothing to hide: the line is left as it was
	}{
		{"as it is", quote(map[string]string{"message": secret}), false},
		{"escaped once in a message", quote(map[string]string{"message": "json: " + quote(secret)}), false},
		{"in a server's answer", quote(map[string]string{"error": `server said {"error_msg":` + quote("uid "+secret) + `}`}), false},
		{"JSON in JSON", nestJSON(secret, jsonInJSONDepth), false},
		{"key", quote(map[string]int{"p " + quote(secret): 1}), false},
		{"nothing to hide", `{"type":"log","message":"a \"quoted\" \\ \u0026 {\"json\":\"\\u003c\"}"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			r := newJSONRedactor(&out)
			r.add([]string{secret})
			_, _ = r.Write([]byte(tt.line + "\n"))
			got := strings.TrimSuffix(out.String(), "\n")
			if !json.Valid([]byte(got)) {
				t.Fatalf("not JSON any more: %s", got)
			}
			if decodedHolds(got, secret) {
				t.Errorf("a decoded string holds the secret:\n in: %s\nout: %s", tt.line, got)
			}
			if (got == tt.line) != tt.same {
				t.Errorf("line changed: %v, want %v:\n in: %s\nout: %s", got != tt.line, !tt.same, tt.line, got)
			}
		})
	}
}

// nestJSON quotes secret in an object levels+1 times: the line, and levels
// of JSON quoted as strings inside it.
func nestJSON(secret string, levels int) string {
	v := map[string]string{"p": secret}
	b, _ := json.Marshal(v)
	for range levels {
		b, _ = json.Marshal(map[string]string{"message": string(b)})
	}
	return string(b)
}

// decodedHolds reports whether any string of the JSON text, decoded (and
// decoded again when it is JSON), holds the secret as it is or escaped once.
func decodedHolds(text, secret string) bool {
	var v any
	if json.Unmarshal([]byte(text), &v) != nil {
		return false
	}
	esc, _ := json.Marshal(secret)
	var holds func(v any) bool
	holds = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, secret) || strings.Contains(v, string(esc[1:len(esc)-1])) ||
				strings.Contains(v, strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(esc[1:len(esc)-1]))) ||
				(json.Valid([]byte(v)) && decodedHolds(v, secret))
		case []any:
			for _, e := range v {
				if holds(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range v {
				if holds(k) || holds(e) {
					return true
				}
			}
		}
		return false
	}
	return holds(v)
}
