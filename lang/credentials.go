package lang

import (
	"slices"
	"strings"
)

// CredentialEnv names the environment variables that hold okru-run's
// credentials: env() of one is sensitive, and a run hides their values in
// everything it prints, whether a session uses them or not.
var CredentialEnv = []string{
	"OKRU_APP_SECRET_KEY", "OKRU_ACCESS_TOKEN", "OKRU_SESSION_SECRET_KEY", "OKRU_REFRESH_TOKEN",
	"OKRU_PASSWORD", "OKRU_CLIENT_SECRET", "OKRU_SESSION_KEY",
}

// credentialWords anywhere in an environment variable's name mark it as a
// credential's (OKRU_APP_SECRET_KEY, GITHUB_TOKEN, DB_PASSWORD,
// GPG_PRIVATE_KEY, ...), compared in upper case.
var credentialWords = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL",
	"PRIVATE", "API_KEY", "SESSION_KEY"}

// credentialEnds mark one as the last word of its name (DEPLOY_KEY,
// DB_PASS, SMTP_PWD, CARD_PIN) or as the whole name, but PWD, the working
// folder: a word, so that MONKEY and BYPASS are not taken for one.
var credentialEnds = []string{"KEY", "PASS", "PIN", "PWD"}

// publicEnv holds names the rules take for credentials that hold public
// values: OKRU_APP_KEY is an ok.ru application's public key, sent in the
// clear with every call and not a secret by ok.ru's own account.
var publicEnv = []string{"OKRU_APP_KEY"}

// IsCredentialEnv reports whether the environment variable name holds a
// credential, by a word of its name: env() of it is sensitive. A word
// anywhere (credentialWords), a last word (credentialEnds) or the whole
// name make a credential, unless the name is a public key's: OKRU_APP_KEY,
// or a name ending in KEY that says PUBLIC (SSH_PUBLIC_KEY) and holds no
// credential word.
func IsCredentialEnv(name string) bool {
	upper := strings.ToUpper(name)
	if slices.Contains(CredentialEnv, upper) {
		return true
	}
	if slices.Contains(publicEnv, upper) {
		return false
	}
	for _, w := range credentialWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	for _, w := range credentialEnds {
		if strings.HasSuffix(upper, "_"+w) {
			return w != "KEY" || !strings.Contains(upper, "PUBLIC")
		}
		if upper == w && w != "PWD" {
			return true
		}
	}
	return false
}
