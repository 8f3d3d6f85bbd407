package okru

import (
	"net/url"
	"strings"
	"testing"
)

// writeQueryEscaped escapes as url.QueryEscape does, every byte and
// mixed strings.
func TestWriteQueryEscapedAsQueryEscape(t *testing.T) {
	cases := []string{"", "abc", "first_name,last_name", "a b+c&d=e", "é ü 日本", "-_.~", "%zz", "\x00\xff", "tail "}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		var b strings.Builder
		writeQueryEscaped(&b, s)
		if want := url.QueryEscape(s); b.String() != want {
			t.Errorf("%q: %q, want %q", s, b.String(), want)
		}
	}
}
