package okru

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode feeds any answer (status, Content-Type, Invocation-Error
// header and body) to the client's response decoding. It must not panic;
// it returns either valid JSON (only for HTTP 200 without an
// Invocation-Error header) or an *Error or *DecodeError, never both;
// and no error holds a secret, even when the server echoes it: "@T", "@S"
// and "@A" in the body or the header stand for the access token, the
// signature and the app secret key of the request.
//
//	go test ./okru -run '^$' -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	for _, c := range []struct {
		status      int
		contentType string
		header      string
		body        string
	}{
		{200, "application/json;charset=utf-8", "", `{"uid":"1"}`},
		{200, "application/json;charset=utf-8", "", `["1","2"]`},
		{200, "application/json", "", `"700000000000001"`},
		{200, "application/json;charset=utf-8", "102", `{"error_code":102,"error_msg":"PARAM_SESSION_EXPIRED : Session expired","error_data":null}`},
		{200, "application/json;charset=utf-8", "", `{"error_code":100,"error_msg":"PARAM : bad access_token=@T","error_data":{"sig":"@S"}}`},
		{200, "application/json;charset=utf-8", "8", ``},
		{200, "text/html", "", `<html>proxy error for ?access_token=@T&sig=@S</html>`},
		{502, "text/plain", "", `bad gateway @A`},
		{200, "application/json;charset=utf-8", "", `{"a":`},
		{200, "application/json;charset=utf-8", "x", `{"error_code":"7"}`},
		{200, "application/json;charset=utf-8", "bad @T", `{"uid":"1"}`},
		{429, "application/json", "", `{}`},
		{200, "application/json;charset=utf-8", "0", `{"error_Code":5}`},
		{200, "application/json;charset=utf-8", "", `{"error\u005fcode":5,"error_msg":"x"}`},
		{200, "application/json;charset=utf-8", "", `{"ERROR_CODE":5}`},
	} {
		f.Add(c.status, c.contentType, c.header, []byte(c.body))
	}
	const (
		appSecret = "FUZZ-app-secret-key-0123456789"
		token     = "FUZZ-access-token-abcdef012345"
		sig       = "0123456789abcdef0123456789abcdef"
	)
	a := New(ServerSession("APPKEY", appSecret, token), nil)
	secrets := []string{appSecret, token, sig, ServerSecret(token, appSecret)}
	wire := map[string]string{"access_token": token, "sig": sig, "method": "users.getInfo"}
	f.Fuzz(func(t *testing.T, status int, contentType, header string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		body = bytes.ReplaceAll(body, []byte("@T"), []byte(token))
		body = bytes.ReplaceAll(body, []byte("@S"), []byte(sig))
		body = bytes.ReplaceAll(body, []byte("@A"), []byte(appSecret))
		header = strings.NewReplacer("@T", token, "@S", sig, "@A", appSecret).Replace(header)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		if contentType != "" {
			resp.Header.Set("Content-Type", contentType)
		}
		if header != "" {
			resp.Header.Set("Invocation-Error", header)
		}
		raw, err := a.decode("users.getInfo", resp, body, wire)
		if _, ok := envelopeCode(body); ok && err == nil {
			t.Fatalf("the error envelope %q decoded as a result", body)
		}
		if err == nil {
			if !json.Valid(raw) {
				t.Fatalf("decoded %q, which is not JSON", raw)
			}
			if status != http.StatusOK || strings.TrimSpace(header) != "" {
				t.Fatalf("HTTP %d with Invocation-Error %q decoded as a result %q", status, header, raw)
			}
			return
		}
		if raw != nil {
			t.Fatalf("both a result %q and an error %v", raw, err)
		}
		var apiErr *Error
		var decErr *DecodeError
		bodyCode, hasBodyCode := envelopeCode(body)
		switch {
		case errors.As(err, &apiErr):
			// A code in the body is the error's; without one, the header's.
			if hasBodyCode && apiErr.Code != Code(bodyCode) {
				t.Fatalf("body code %d gave code %d", bodyCode, apiErr.Code)
			}
			if n, convErr := strconv.Atoi(strings.TrimSpace(header)); convErr == nil && !hasBodyCode && apiErr.Code != Code(n) {
				t.Fatalf("header %q gave code %d", header, apiErr.Code)
			}
		case errors.As(err, &decErr):
		default:
			t.Fatalf("error of type %T: %v", err, err)
		}
		text := err.Error()
		if apiErr != nil {
			text += string(apiErr.Data)
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("the error shows a secret %q: %s", s, text)
			}
		}
	})
}

// envelopeCode is the fuzz test's own reading of an error envelope: a JSON
// object whose key is exactly "error_code" (escapes decoded, case kept)
// with an int value, and an error_msg that is a string or null if present.
func envelopeCode(body []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if dec.Decode(&top) != nil {
		return 0, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, false
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return 0, false
	}
	num, ok := obj["error_code"].(json.Number)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(num))
	if err != nil || int64(int(n)) != int64(n) {
		return 0, false
	}
	switch obj["error_msg"].(type) {
	case nil, string:
		return n, true
	}
	return 0, false
}
