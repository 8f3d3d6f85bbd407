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
	cases := map[string]bool{
		"OKRU_SESSION_SECRET_KEY": true, "OKRU_ACCESS_TOKEN": true, "OKRU_APP_SECRET_KEY": true, "OKRU_REFRESH_TOKEN": true,
		"GITHUB_TOKEN": true, "DB_PIN": true, "PIN": true, "AWS_SECRET_ACCESS_KEY": true, "GPG_PRIVATE": true,
		"GPG_PRIVATE_KEY": true, "STRIPE_API_KEY": true, "db_password": true,
		// Credentials by their last word.
		"DEPLOY_KEY": true, "KEY": true, "DB_PASS": true, "PASS": true, "SMTP_PWD": true, "NPM_AUTH_TOKEN": true,
		// Public keys, and words that only end like one.
		"OKRU_APP_KEY": false, "okru_app_key": false, "SSH_PUBLIC_KEY": false, "AWS_ACCESS_KEY_ID": false,
		"MONKEY": false, "BYPASS": false, "PWD": false, "OLDPWD": false, "KEYBOARD": false,
		"OKRU_API_URL": false, "OKRU_APP_ID": false, "HOME": false,
	}
	// Set: each of the cases; unset: the rest (OKRU_PASSWORD below).
	fn := Scope{Getenv: func(n string) string {
		if _, ok := cases[n]; ok && n != "OKRU_PASSWORD" {
			return "value-of-" + n
		}
		return ""
	}}.envFunc()
	for name, want := range cases {
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
