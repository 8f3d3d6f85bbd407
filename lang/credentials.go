package lang

import "strings"

// CredentialEnv names the environment variables that hold okru-run's
// credentials: env() of one is sensitive, and a run hides their values in
// everything it prints, whether a session uses them or not.
var CredentialEnv = []string{
	"OKRU_APP_SECRET_KEY", "OKRU_ACCESS_TOKEN", "OKRU_SESSION_SECRET_KEY", "OKRU_REFRESH_TOKEN",
	"OKRU_PASSWORD", "OKRU_CLIENT_SECRET", "OKRU_SESSION_KEY",
}

// credentialWords mark an environment variable's name as a credential's
// (OKRU_APP_SECRET_KEY, GITHUB_TOKEN, DB_PASSWORD, ...), compared in upper
// case.
var credentialWords = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL",
	"PRIVATE_KEY", "API_KEY", "SESSION_KEY"}

// IsCredentialEnv reports whether the environment variable name holds a
// credential, by CredentialEnv or by a word of its name: env() of it is
// sensitive. OKRU_APP_KEY, an application's public key, is not.
func IsCredentialEnv(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range credentialWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return upper == "PIN" || strings.HasSuffix(upper, "_PIN")
}
