package okru

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Redacted replaces a secret in text that leaves the package.
const Redacted = "[REDACTED]"

// TokenOnlyBelow is the length (in bytes) under which a secret is hidden
// only where it stands as a whole token: not preceded or followed by a
// letter, digit or underscore (for a secret that starts or ends with
// one). A PIN such as "Q7zK9" is hidden in "bad pin Q7zK9" and in
// pin=Q7zK9, but "1234" is not cut out of "a12345" or of an id: hiding
// every occurrence of a short string would make messages unreadable
// while telling a reader nothing the remaining characters do not. Secrets
// this long and longer are hidden wherever they appear.
const TokenOnlyBelow = 6

// sensitiveParams are the request and OAuth parameters whose values are
// secrets wherever they appear as name=value (URLs, form bodies, echoes).
// It is the module's one list: the sandbox's call log uses it too, through
// IsSensitiveParam.
var sensitiveParams = []string{
	"access_token", "session_key", "session_secret_key", "application_secret_key", "app_secret_key",
	"sig", "resig", "client_secret", "refresh_token", "code", "password", "fr.password", "fr.token",
}

// IsSensitiveParam reports whether the value of the request, OAuth or login
// form parameter name is a secret (access_token, sig, client_secret,
// password, ...), so that it must never be logged or shown.
func IsSensitiveParam(name string) bool {
	return slices.Contains(sensitiveParams, name)
}

// Redact returns text with every secret removed: each of the given secret
// values and the value of every sensitive name=value parameter
// (access_token, sig, session_secret_key, client_secret, refresh_token,
// password, ...). It is the module's one redaction function: every error
// built from a URL, a transport failure or a server's text goes through
// it, and other packages use it for their own messages too.
//
// A secret is found as it is and escaped, as a server or a program may
// send it back: JSON-escaped (\" \\ \/ \n \u0026, \uD83D\uDE00, any case
// of hex), HCL-escaped (the JSON escapes, \U0001F600, $${ and %%{) and
// URL-encoded (%XX in any case, + for a space), one level of escaping,
// mixed within one occurrence. A secret shorter than TokenOnlyBelow bytes
// is found only as a whole token; empty ones are ignored.
//
// Redact is idempotent: Redact(Redact(t, s...), s...) == Redact(t, s...).
// Text already redacted is never redacted again ("[REDACTED]" is not a
// place a secret or a parameter's value can start or end), and overlapping
// secrets are resolved left to right, longest first.
func Redact(text string, secrets ...string) string {
	r := redactor{text: text}
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	if len(r.secrets) == 0 && !strings.Contains(text, "=") {
		return text
	}
	for _, s := range r.secrets {
		r.starts[s[0]] = true
		if s[0] == ' ' {
			r.starts['+'] = true
		}
	}
	for _, c := range []byte{'\\', '%', '$'} {
		r.starts[c] = len(r.secrets) > 0
	}
	r.starts['='] = true
	r.starts[Redacted[0]] = true
	return r.run()
}

type redactor struct {
	text    string
	secrets []string
	starts  [256]bool // bytes a secret, a marker or a parameter's '=' may start at
	b       strings.Builder
}

// run scans text once, left to right. At each position it skips a
// marker, hides the longest secret that starts there, or the value of a
// sensitive parameter whose '=' is there.
func (r *redactor) run() string {
	text := r.text
	done := 0 // text[:done] is in b, or b is empty and nothing changed yet
	for i := 0; i < len(text); {
		if !r.starts[text[i]] {
			i++
			continue
		}
		if strings.HasPrefix(text[i:], Redacted) {
			i += len(Redacted)
			continue
		}
		if end := r.longestSecret(i); end > i {
			end = r.overlapping(i, end)
			done = r.replace(done, i, end)
			i = end
			continue
		}
		// A value that starts with a marker was hidden already, or was
		// empty and a secret after it was: either way a second pass
		// must leave it.
		if text[i] == '=' && isSensitiveName(text[:i]) && !strings.HasPrefix(text[i+1:], Redacted) {
			end := valueEnd(text, i+1)
			if end > i+1 {
				// Hide a secret that goes on after the value too, and
				// then the rest of the value after it: a second pass
				// must find markers only, up to the value's end.
				for e := end; ; end = e {
					if e = valueEnd(text, r.overlapping(i+1, end)); e == end {
						break
					}
				}
				done = r.replace(done, i+1, end)
			}
			i = max(end, i+1)
			continue
		}
		i++
	}
	if done == 0 && r.b.Len() == 0 {
		return text
	}
	r.b.WriteString(text[done:])
	return r.b.String()
}

func (r *redactor) replace(done, from, to int) int {
	if r.b.Len() == 0 {
		r.b.Grow(len(r.text))
	}
	r.b.WriteString(r.text[done:from])
	r.b.WriteString(Redacted)
	return to
}

// longestSecret returns the end of the longest occurrence of a secret,
// in any of its forms, that starts at i and that the token rule allows;
// i when there is none.
func (r *redactor) longestSecret(i int) int {
	best := i
	for _, s := range r.secrets {
		end := matchAt(r.text, i, s, 0)
		if end <= best {
			continue
		}
		if len(s) < TokenOnlyBelow && !r.wholeToken(i, end, s) {
			continue
		}
		best = end
	}
	return best
}

// overlapping extends the hidden text[from:end] over every secret that
// starts inside it and ends after it, so that no part of one is left
// showing beside the marker.
func (r *redactor) overlapping(from, end int) int {
	for p := from + 1; p < end; p++ {
		if strings.HasPrefix(r.text[p:], Redacted) {
			p += len(Redacted) - 1
			continue
		}
		end = max(end, r.longestSecret(p))
	}
	return end
}

// wholeToken reports whether text[i:end], an occurrence of s, is not part
// of a longer word: the character before it (decoded, should it end an
// escape such as "\n") and the one after it are not word characters
// where s starts or ends with one. A marker counts as a word: a text redacted
// once is redacted the same way again.
func (r *redactor) wholeToken(i, end int, s string) bool {
	if isWordByte(s[0]) && isWord(prevUnit(r.text, i)) {
		return false
	}
	if isWordByte(s[len(s)-1]) && isWord(nextUnit(r.text, end)) {
		return false
	}
	return true
}

// marker stands for "[REDACTED]" as a neighbour in wholeToken.
const marker rune = -2

func isWordByte(c byte) bool { return c >= 0x80 || isWord(rune(c)) }

func isWord(c rune) bool {
	switch {
	case c == marker, c == '_':
		return true
	case c < 0:
		return false
	case c < utf8.RuneSelf:
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return unicode.IsLetter(c) || unicode.IsDigit(c) || c == utf8.RuneError
}

// prevUnit returns the character that ends at text[:i], decoded when it
// is escaped; -1 at the start of text.
func prevUnit(text string, i int) rune {
	if i == 0 {
		return -1
	}
	if strings.HasSuffix(text[:i], Redacted) {
		return marker
	}
	// An escape ending at i: \uXXXX, %XX, \n.
	if i >= 6 && text[i-6] == '\\' && text[i-5] == 'u' {
		if v, ok := hexValue(text[i-4 : i]); ok {
			return rune(v)
		}
	}
	if i >= 3 && text[i-3] == '%' {
		if v, ok := hexValue(text[i-2 : i]); ok {
			return rune(v)
		}
	}
	if i >= 2 && text[i-2] == '\\' {
		if c, ok := simpleEscape(text[i-1]); ok {
			return rune(c)
		}
	}
	c, _ := utf8.DecodeLastRuneInString(text[:i])
	return c
}

// nextUnit returns the character at text[i:], as it is: an escape after
// a secret ("\u0041", "%41") counts as the punctuation it starts with, so
// the secret is hidden. Decoding it would look into text that a later
// match may hide, and a second pass would then decide otherwise. -1 at
// the end of text.
func nextUnit(text string, i int) rune {
	if i >= len(text) {
		return -1
	}
	if strings.HasPrefix(text[i:], Redacted) {
		return marker
	}
	c, _ := utf8.DecodeRuneInString(text[i:])
	return c
}

// matchAt returns the end of the longest occurrence of s[k:] in text at
// i, each character of it as it is or escaped; -1 when there is none. A
// marker is never part of an occurrence.
func matchAt(text string, i int, s string, k int) int {
	var m matcher
	return m.match(text, i, s, k)
}

// matcher remembers the ends found from each (i, k) where an escape and
// a byte as it is both fit, so that a secret of many backslashes costs
// len(text)*len(s) steps, not 2^len(s).
type matcher struct{ memo map[[2]int]int }

func (m *matcher) match(text string, i int, s string, k int) int {
	best := -1
	for k <= len(s) {
		if k == len(s) {
			return max(best, i)
		}
		if i >= len(text) || strings.HasPrefix(text[i:], Redacted) {
			return best
		}
		// An escape may stand for the next bytes of s: try it, and also
		// the byte as it is, since "\" or "%" may be a byte of the
		// secret itself.
		if b, n := unescape(text, i); n > 0 && strings.HasPrefix(s[k:], string(b)) {
			best = max(best, m.branch(text, i+n, s, k+len(b)))
		}
		c := text[i]
		if c == '+' && s[k] == ' ' {
			best = max(best, m.branch(text, i+1, s, k+1))
		}
		if c != s[k] {
			return best
		}
		i++
		k++
	}
	return best
}

func (m *matcher) branch(text string, i int, s string, k int) int {
	key := [2]int{i, k}
	if end, ok := m.memo[key]; ok {
		return end
	}
	if m.memo == nil {
		m.memo = map[[2]int]int{}
	}
	end := m.match(text, i, s, k)
	m.memo[key] = end
	return end
}

// unescape decodes the escape sequence at text[i:] (JSON, HCL or URL),
// returning what it stands for and its length; n is 0 when there is none.
func unescape(text string, i int) (b []byte, n int) {
	rest := text[i:]
	switch {
	case strings.HasPrefix(rest, "$${"), strings.HasPrefix(rest, "%%{"):
		return []byte(rest[1:3]), 3
	case len(rest) >= 3 && rest[0] == '%':
		if v, ok := hexValue(rest[1:3]); ok {
			return []byte{byte(v)}, 3
		}
	case len(rest) >= 2 && rest[0] == '\\':
		switch rest[1] {
		case 'u':
			return unescapeU(rest)
		case 'U':
			if len(rest) >= 10 {
				if v, ok := hexValue(rest[2:10]); ok && utf8.ValidRune(rune(v)) {
					return utf8.AppendRune(nil, rune(v)), 10
				}
			}
		default:
			if c, ok := simpleEscape(rest[1]); ok {
				return []byte{c}, 2
			}
		}
	}
	return nil, 0
}

// unescapeU decodes \uXXXX, and a surrogate pair \uD83D\uDE00.
func unescapeU(rest string) ([]byte, int) {
	if len(rest) < 6 {
		return nil, 0
	}
	v, ok := hexValue(rest[2:6])
	if !ok {
		return nil, 0
	}
	c := rune(v)
	if utf16.IsSurrogate(c) {
		if len(rest) < 12 || rest[6] != '\\' || rest[7] != 'u' {
			return nil, 0
		}
		lo, ok := hexValue(rest[8:12])
		if !ok {
			return nil, 0
		}
		if c = utf16.DecodeRune(c, rune(lo)); c == utf8.RuneError {
			return nil, 0
		}
		return utf8.AppendRune(nil, c), 12
	}
	return utf8.AppendRune(nil, c), 6
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/', '\'':
		return c, true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	}
	return 0, false
}

func hexValue(h string) (uint32, bool) {
	var v uint32
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

// valueEnd returns where the value of a parameter that starts at i ends:
// at the next separator of a query string, a form body or a quoted
// string. A marker inside is skipped whole: its "]" ends nothing.
func valueEnd(text string, i int) int {
	for i < len(text) {
		if strings.HasPrefix(text[i:], Redacted) {
			i += len(Redacted)
			continue
		}
		if isValueEnd(text[i]) {
			return i
		}
		i++
	}
	return i
}

// isSensitiveName reports whether prefix ends with a sensitive parameter
// name that starts at a boundary (so "xsig=" does not match "sig").
func isSensitiveName(prefix string) bool {
	for _, name := range sensitiveParams {
		if !strings.HasSuffix(prefix, name) {
			continue
		}
		start := len(prefix) - len(name)
		if start == 0 || isNameBoundary(prefix[start-1]) {
			return true
		}
	}
	return false
}

func isNameBoundary(c byte) bool {
	switch c {
	case '?', '&', ' ', '\t', '\n', '"', '\'', '#', ';', ',', '(', '{', '[', '/':
		return true
	}
	return false
}

func isValueEnd(c byte) bool {
	switch c {
	case '&', ' ', '\t', '\r', '\n', '"', '\'', '#', ';', ',', ')', '}', ']', '<', '>':
		return true
	}
	return false
}
