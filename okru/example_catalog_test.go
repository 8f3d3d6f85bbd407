package okru_test

import (
	"fmt"
	"slices"

	"github.com/okru-run/okru-run/okru"
)

// The catalog says what a call needs before it is sent: required
// parameters, the session rule for external applications, and permissions
// that depend on the parameters.
func ExampleMethod_MissingPermission() {
	m, _ := okru.LookupMethod("mediatopic.post")
	granted := func(scope string) bool { return slices.Contains([]string{"VALUABLE_ACCESS"}, scope) }

	fmt.Println(m.Required)
	fmt.Printf("%q\n", m.MissingPermission(map[string]string{"type": "USER"}, granted))
	fmt.Printf("%q\n", m.MissingPermission(map[string]string{"type": "GROUP_THEME", "gid": "5"}, granted))

	info, _ := okru.LookupMethod("users.getInfo")
	fmt.Println(info.SessionFor(true), info.MissingParams(map[string]string{"uids": "1"}))
	// Output:
	// [type attachment]
	// ""
	// "GROUP_CONTENT"
	// required [fields]
}
