package okru

import (
	"net/url"
	"strings"
)

// Redacted replaces a secret in text that leaves the package.
const Redacted = "[REDACTED]"

// minSecretLen is the shortest string treated as a secret to hide by value.
// Real tokens and keys are dozens of characters long; hiding a one- or
// two-character "secret" (as in test vectors) would replace every such digit
// in a message and make it unreadable, while protecting nothing.
const minSecretLen = 6

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
	for _, p := range sensitiveParams {
		if p == name {
			return true
		}
	}
	return false
}

// Redact returns text with every secret removed: each of the given secret
// values (and its URL-encoded form) and the value of every sensitive
// name=value parameter (access_token, sig, session_secret_key, client_secret,
// refresh_token, password, ...). It is the package's one redaction function:
// every error built from a URL, a transport failure or a server's text goes
// through it, and other packages should use it for their own messages too.
func Redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		text = strings.ReplaceAll(text, s, Redacted)
		if q := url.QueryEscape(s); q != s {
			text = strings.ReplaceAll(text, q, Redacted)
		}
		if p := url.PathEscape(s); p != s {
			text = strings.ReplaceAll(text, p, Redacted)
		}
	}
	return redactParams(text)
}

// redactParams hides the value after each sensitive "name=" in text, up to
// the next separator of a query string, a form body or a quoted string.
func redactParams(text string) string {
	if !strings.Contains(text, "=") {
		return text
	}
	var b strings.Builder
	i := 0
	for i < len(text) {
		eq := strings.IndexByte(text[i:], '=')
		if eq < 0 {
			break
		}
		eq += i
		end := eq + 1
		if isSensitiveName(text[:eq]) {
			for end < len(text) && !isValueEnd(text[end]) {
				end++
			}
			if end > eq+1 {
				b.WriteString(text[i : eq+1])
				b.WriteString(Redacted)
				i = end
				continue
			}
		}
		b.WriteString(text[i:end])
		i = end
	}
	if b.Len() == 0 {
		return text
	}
	b.WriteString(text[i:])
	return b.String()
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
