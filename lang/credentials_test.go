package lang

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// env() of a credential's variable is sensitive even where no session
// uses it (issue 11: an output of env("OKRU_SESSION_SECRET_KEY") was
// printed); other variables are not.
func TestEnvCredentialIsSensitive(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OKRU_SESSION_SECRET_KEY": "ssk", "OKRU_ACCESS_TOKEN": "-s-tok", "OKRU_APP_KEY": "public",
		"GITHUB_TOKEN": "gh", "OKRU_API_URL": "http://x", "DB_PIN": "1234"}
	fn := Scope{Getenv: func(n string) string { return env[n] }}.envFunc()
	for name, want := range map[string]bool{"OKRU_SESSION_SECRET_KEY": true, "OKRU_ACCESS_TOKEN": true, "GITHUB_TOKEN": true,
		"DB_PIN": true, "OKRU_APP_KEY": false, "OKRU_API_URL": false} {
		v, err := fn.Call([]cty.Value{cty.StringVal(name)})
		if err != nil {
			t.Fatal(err)
		}
		if IsSensitive(v) != want {
			t.Errorf("env(%q) sensitive = %v, want %v", name, IsSensitive(v), want)
		}
	}
	// A default stands in for a credential, so it is sensitive too; an
	// unset one stays a plain null for the session's "not set" message.
	v, _ := fn.Call([]cty.Value{cty.StringVal("OKRU_PASSWORD"), cty.StringVal("fallback")})
	if !IsSensitive(v) {
		t.Error("the default of env(OKRU_PASSWORD) is not sensitive")
	}
	if v, _ := fn.Call([]cty.Value{cty.StringVal("OKRU_PASSWORD")}); !v.IsNull() || v.IsMarked() {
		t.Errorf("an unset credential = %#v, want a plain null", v)
	}
}
