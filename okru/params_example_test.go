package okru_test

import (
	"fmt"
	"math/big"

	"github.com/okru-run/okru-run/okru"
)

// Every value has one wire form: the text that is sent and signed.
func ExampleEncodeValue() {
	id, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, v := range []any{
		"Привет",
		id,
		1e21,
		[]int{1, 2, 3},
		[][]int{{1, 2}, {3}},
		map[string]any{"type": "text", "ratio": 0.1},
	} {
		s, _, _ := okru.EncodeValue(v)
		fmt.Println(s)
	}
	_, _, err := okru.EncodeParam("attachment", map[string]any{"media": []any{map[int]string{1: "x"}}})
	fmt.Println(err)
	// Output:
	// Привет
	// 123456789012345678901234567890
	// 1000000000000000000000
	// 1,2,3
	// [[1,2],[3]]
	// {"ratio":0.1,"type":"text"}
	// parameter attachment["media"][0]: a map with int keys has no wire form: JSON object keys are strings
}
