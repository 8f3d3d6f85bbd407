package okru_test

import "testing"

// FuzzRedact checks Redact on any text and two secrets: it does not
// panic, a second pass changes nothing, and no secret of TokenOnlyBelow
// bytes or more shows as it is, JSON-escaped or URL-encoded.
//
//	go test ./okru -run '^$' -fuzz '^FuzzRedact$' -fuzztime 60s
func FuzzRedact(f *testing.F) {
	f.Add(`{"msg":"Secret\u0026Pass\u003c1\u003e"}`, "Secret&Pass<1>", "")
	f.Add(`bad Secret\"Pass\\1`, `Secret"Pass\1`, "Q7zK9")
	f.Add("access_token=[REDACTED]]]&pin=Q7zK9", "Q7zK9", "REDACTED")
	f.Add("abcdefghijkl%26", "abcdefgh", "efghijkl")
	f.Add(`a$${b}%%{c}\U0001F600 %2B+`, "a${b}%{c}😀", "+ ")
	f.Fuzz(func(t *testing.T, text, s1, s2 string) {
		if len(text) > 4096 || len(s1) > 256 || len(s2) > 256 {
			return
		}
		checkRedact(t, text, []string{s1, s2})
	})
}
