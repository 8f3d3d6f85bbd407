package okru

import (
	"net/url"
	"testing"
)

// appendQueryEscaped escapes as url.QueryEscape does, every byte and
// mixed strings.
func TestAppendQueryEscapedAsQueryEscape(t *testing.T) {
	cases := []string{"", "abc", "first_name,last_name", "a b+c&d=e", "é ü 日本", "-_.~", "%zz", "\x00\xff", "tail "}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		b := appendQueryEscaped([]byte("x="), s)
		if want := "x=" + url.QueryEscape(s); string(b) != want {
			t.Errorf("%q: %q, want %q", s, b, want)
		}
	}
}
