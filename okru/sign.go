package okru

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
)

// Sign returns ok.ru's request signature: the lower-case hex MD5 of every
// parameter except sig, access_token and resig, sorted by key and written as
// key=value with nothing between pairs, followed by secret.
//
// Values are signed raw, exactly as they are sent (before URL encoding), so
// callers must pass the final wire strings. This is the only signer in the
// module: the client and the sandbox both use it.
//
// It runs for every call, in the client and in the sandbox: the text it
// hashes is written in a buffer on the stack when it fits, so that the
// signature is its one allocation.
func Sign(params map[string]string, secret string) string {
	var buf [512]byte
	sum := md5.Sum(appendSigning(buf[:0], params, secret))
	var hexSum [2 * md5.Size]byte
	hex.Encode(hexSum[:], sum[:])
	return string(hexSum[:])
}

// signingString is the text that Sign hashes.
func signingString(params map[string]string, secret string) string {
	return string(appendSigning(nil, params, secret))
}

// appendSigning appends the text that Sign hashes to b.
func appendSigning(b []byte, params map[string]string, secret string) []byte {
	var keyBuf [16]string
	keys := keyBuf[:0]
	n := len(secret)
	for k, v := range params {
		if unsigned(k) {
			continue
		}
		keys = append(keys, k)
		n += len(k) + 1 + len(v)
	}
	slices.Sort(keys)
	b = slices.Grow(b, n)
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, params[k]...)
	}
	return append(b, secret...)
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
