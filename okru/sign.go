package okru

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strings"
)

// Sign returns ok.ru's request signature: the lower-case hex MD5 of every
// parameter except sig, access_token and resig, sorted by key and written as
// key=value with nothing between pairs, followed by secret.
//
// Values are signed raw, exactly as they are sent (before URL encoding), so
// callers must pass the final wire strings. This is the only signer in the
// module: the client and the sandbox both use it.
func Sign(params map[string]string, secret string) string {
	return md5hex(signingString(params, secret))
}

// signingString is the text that Sign hashes.
func signingString(params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	n := len(secret)
	for k, v := range params {
		if unsigned(k) {
			continue
		}
		keys = append(keys, k)
		n += len(k) + 1 + len(v)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	b.WriteString(secret)
	return b.String()
}

// ServerSecret derives the secret of the server-server circuit:
// md5(access_token + application_secret_key) in lower-case hex.
func ServerSecret(accessToken, appSecretKey string) string {
	return md5hex(accessToken + appSecretKey)
}

// unsigned reports whether a parameter is left out of the signature.
func unsigned(key string) bool {
	return key == "sig" || key == "access_token" || key == "resig"
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
