package okru_test

import (
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// shade is a named string whose String is for people, as an enum's is.
type shade string

func (s shade) String() string { return "the shade " + string(s) }

// ratio is a named float without a String method.
type ratio float64

// TestEncodeValueKindBeforeString checks that a value of a named basic type
// is sent by its value, not by its String method, that other Stringers are
// sent by String, and that a time.Time is refused rather than guessed at.
func TestEncodeValueKindBeforeString(t *testing.T) {
	t.Parallel()
	code := okru.CodeParamSessionExpired
	when := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var nilCode *okru.Code
	var nilInt *big.Int
	tests := []struct {
		name    string
		v       any
		want    string
		notSent bool
		err     string
	}{
		{name: "code", v: okru.CodeParamSessionExpired, want: "102"},
		{name: "pointer to a code", v: &code, want: "102"},
		{name: "list of codes", v: []okru.Code{okru.CodeParamSessionExpired, okru.CodeParam}, want: "102,100"},
		{name: "named string with String", v: shade("red"), want: "red"},
		{name: "named float", v: ratio(0.5), want: "0.5"},
		{name: "json number", v: json.Number("500000462248"), want: "500000462248"},
		{name: "big int", v: new(big.Int).Lsh(big.NewInt(1), 70), want: "1180591620717411303424"},
		{name: "ip address", v: net.IPv4(10, 0, 0, 1), want: "10.0.0.1"},
		{name: "nil pointer to a code", v: nilCode, notSent: true},
		{name: "nil big int", v: nilInt, notSent: true},
		{name: "time", v: when, err: "t.Unix()"},
		{name: "pointer to a time", v: &when, err: "t.Unix()"},
		{name: "list of times", v: []time.Time{when}, err: "time.Time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := okru.EncodeValue(tt.v)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("EncodeValue = %q, %v, %v; want an error mentioning %q", got, ok, err, tt.err)
				}
			case tt.notSent:
				if err != nil || ok {
					t.Fatalf("EncodeValue = %q, %v, %v; want it not sent", got, ok, err)
				}
			default:
				if err != nil || !ok || got != tt.want {
					t.Fatalf("EncodeValue = %q, %v, %v; want %q", got, ok, err, tt.want)
				}
			}
		})
	}
}
