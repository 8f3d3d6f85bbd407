package okru_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// The dodges of issue 11: a secret sent back escaped, a short one, and
// redaction applied to its own output.
func TestRedactEscapedForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, text, want string
	}{
		{"json with html escapes", "Secret&Pass<1>", `{"msg":"Secret\u0026Pass\u003c1\u003e"}`, `{"msg":"[REDACTED]"}`},
		{"json upper-case hex", "Secret&Pass<1>", `"Secret\u0026Pass\u003C1\u003E"`, `"[REDACTED]"`},
		{"json quote and backslash", `Secret"Pass\1`, `{"e":"bad Secret\"Pass\\1 here"}`, `{"e":"bad [REDACTED] here"}`},
		{"json escaped slash", "tok/en/value", `{"t":"tok\/en\/value"}`, `{"t":"[REDACTED]"}`},
		{"json non-ascii and a surrogate pair", "пароль😀!", `"\u043f\u0430\u0440\u043e\u043b\u044c\ud83d\ude00!"`, `"[REDACTED]"`},
		{"hcl escapes", "a${b}%{c}\"d\U0001F600", `x = "a$${b}%%{c}\"d\U0001F600"`, `x = "[REDACTED]"`},
		{"url encoded", "Secret&Pass<1> x", "q=Secret%26Pass%3c1%3E+x&z", "q=[REDACTED]&z"},
		{"url path encoded", "Secret&Pass<1> x", "/a/Secret&Pass%3C1%3E%20x/b", "/a/[REDACTED]/b"},
		{"mixed in one occurrence", "Secret&Pass<1>", `Secret%26Pass\u003c1>`, "[REDACTED]"},
		{"raw with a literal percent", "100%off-code", "use 100%off-code now", "use [REDACTED] now"},
		{"many backslashes", strings.Repeat(`\`, 40), strings.Repeat(`\\`, 40), "[REDACTED]"},
		{"the marker's own text", "REDACTED", "x REDACTED y [REDACTED]", "x [REDACTED] y [REDACTED]"},
		{"overlapping secrets", "abcdefgh", "abcdefghijkl", "[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := []string{tt.secret}
			if tt.name == "overlapping secrets" {
				secrets = append(secrets, "efghijkl")
			}
			got := okru.Redact(tt.text, secrets...)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
			if again := okru.Redact(got, secrets...); again != got {
				t.Errorf("a second Redact changed %q to %q", got, again)
			}
		})
	}
}

// Sensitive values shorter than okru.TokenOnlyBelow are hidden where they
// stand as a whole token, escaped or not, and left inside longer words.
func TestRedactShortSecrets(t *testing.T) {
	t.Parallel()
	const pin = "Q7zK9"
	tests := []struct{ text, want string }{
		{"PARAM : bad pin Q7zK9.", "PARAM : bad pin [REDACTED]."},
		{"pin=Q7zK9&x=1", "pin=[REDACTED]&x=1"},
		{`{"pin":"Q7zK9"}`, `{"pin":"[REDACTED]"}`},
		{`"line\nQ7zK9\tx"`, `"line\n[REDACTED]\tx"`},
		{"%20Q7zK9%20", "%20[REDACTED]%20"},
		{`\u0051\u0037zK9`, "[REDACTED]"},
		{"xQ7zK9 Q7zK9x Q7zK9_ 0Q7zK9", "xQ7zK9 Q7zK9x Q7zK9_ 0Q7zK9"},
		{"Q7zK9", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := okru.Redact(tt.text, pin); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	// A secret that starts and ends with punctuation has no word to be
	// part of.
	if got := okru.Redact("a-#1-b", "#1"); got != "a-[REDACTED]-b" {
		t.Errorf("got %q", got)
	}
}

// redactAlphabet builds texts and secrets that overlap, escape and look
// like markers and parameters, so that random ones meet the hard cases.
var redactAlphabet = []string{"a", "b", "c", "1", "_", " ", "&", "=", "%", "+", "\\", "\"", "$", "{", "[", "]", "/", "\n", "é",
	okru.Redacted, "REDACTED", "access_token=", "sig=", "%26", "%2", "\\u0026", "\\\"", "\\\\", "$${", "\\n"}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(redactAlphabet[r.IntN(len(redactAlphabet))])
	}
	return b.String()
}

// Redact is idempotent and hides every occurrence of a long secret, as it
// is, JSON-escaped and URL-encoded, over random texts and overlapping
// secrets. The texts are built from the secrets' pieces so that they
// hold them often.
func TestRedactProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 7))
	for range 20000 {
		secrets := make([]string, 1+r.IntN(3))
		for i := range secrets {
			secrets[i] = randomText(r, 1+r.IntN(6))
		}
		var b strings.Builder
		for range r.IntN(12) {
			switch r.IntN(4) {
			case 0:
				b.WriteString(secretForm(secrets[r.IntN(len(secrets))], r.IntN(3)))
			default:
				b.WriteString(randomText(r, 1+r.IntN(3)))
			}
		}
		checkRedact(t, b.String(), secrets)
	}
}

// secretForm is s as it is (0), JSON-escaped (1) or URL-encoded (2).
func secretForm(s string, form int) string {
	switch form {
	case 1:
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	case 2:
		return url.QueryEscape(s)
	}
	return s
}

// checkRedact fails when Redact(text, secrets...) is not idempotent or
// shows a secret of TokenOnlyBelow bytes or more, in one of the forms of
// secretForm, outside the markers. A secret that holds the marker is
// exempt from the second check: the marker is never redacted again.
func checkRedact(t *testing.T, text string, secrets []string) {
	t.Helper()
	once := okru.Redact(text, secrets...)
	if twice := okru.Redact(once, secrets...); twice != once {
		t.Fatalf("not idempotent: secrets %q\ntext  %q\nonce  %q\ntwice %q", secrets, text, once, twice)
	}
	// The marker's own letters do not count.
	shown := strings.ReplaceAll(once, okru.Redacted, "\x00")
	for _, s := range secrets {
		if len(s) < okru.TokenOnlyBelow || strings.Contains(s, okru.Redacted) || !utf8Valid(s) {
			continue
		}
		for form := range 3 {
			if f := secretForm(s, form); strings.Contains(shown, f) {
				t.Fatalf("form %d of secret %q (%q) shows: secrets %q\ntext %q\ngot  %q", form, s, f, secrets, text, once)
			}
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func ExampleRedact() {
	// A server echoes a password JSON-escaped, and a PIN as a token.
	fmt.Println(okru.Redact(`{"error":"bad password Secret\u0026Pass for pin 4711"}`, "Secret&Pass", "4711"))
	// Output: {"error":"bad password [REDACTED] for pin [REDACTED]"}
}
