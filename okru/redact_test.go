package okru_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{name: "query parameters", text: `Get "https://api.ok.ru/fb.do?access_token=abc.def&method=x&sig=0123abcd": EOF`,
			want: `Get "https://api.ok.ru/fb.do?access_token=[REDACTED]&method=x&sig=[REDACTED]": EOF`},
		{name: "form body", text: "application_key=K&session_secret_key=s3cr3t&password=p%40ss",
			want: "application_key=K&session_secret_key=[REDACTED]&password=[REDACTED]"},
		{name: "oauth fragment", text: "blank.html#access_token=tok&refresh_token=r&state=1",
			want: "blank.html#access_token=[REDACTED]&refresh_token=[REDACTED]&state=1"},
		{name: "longer names are not cut", text: "design=1&xsig=2&error_code=102&signature=ok",
			want: "design=1&xsig=2&error_code=102&signature=ok"},
		{name: "resig is a signature too", text: "resig=abcdef&x=1", want: "resig=[REDACTED]&x=1"},
		{name: "known values anywhere", text: `{"echo":"my-long-token and my-app-secret"}`,
			secrets: []string{"my-long-token", "my-app-secret"}, want: `{"echo":"[REDACTED] and [REDACTED]"}`},
		{name: "url-encoded value", text: "token a%2Fb%2Bcdefg seen", secrets: []string{"a/b+cdefg"}, want: "token [REDACTED] seen"},
		{name: "empty secrets are ignored, short ones hidden as whole tokens", text: "code 3 (3) 33 x3 3x", secrets: []string{"", "3"},
			want: "code [REDACTED] ([REDACTED]) 33 x3 3x"},
		{name: "a redacted parameter stays as it is", text: "access_token=[REDACTED]&sig=[REDACTED]]", want: "access_token=[REDACTED]&sig=[REDACTED]]"},
		{name: "nothing to hide", text: "call users.getInfo: PARAM (100)", want: "call users.getInfo: PARAM (100)"},
		{name: "empty value", text: "sig=&a=1", want: "sig=&a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := okru.Redact(tt.text, tt.secrets...); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// secretSession holds one of every secret, for the leak tests below.
const (
	leakAppSecret    = "LEAK-app-secret-key-111111"
	leakToken        = "LEAK-access-token-222222"
	leakSessionKey   = "LEAK-session-secret-333333"
	leakRefreshToken = "LEAK-refresh-token-444444"
)

func leakSession(t *testing.T, apiURL string) *okru.Session {
	t.Helper()
	s, err := okru.TokenSession(appKey, leakAppSecret, leakToken, leakSessionKey,
		okru.WithAPIURL(apiURL), okru.WithRefreshToken(leakRefreshToken, nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leakSecrets names every secret kind of leakSession, including the
// signature a call to users.getInfo with uids=1 sends and the derived
// server-server secret.
func leakSecrets(method string, params map[string]string) map[string]string {
	wire := map[string]string{"application_key": appKey, "format": "json", "method": method}
	for k, v := range params {
		wire[k] = v
	}
	server := okru.ServerSecret(leakToken, leakAppSecret)
	return map[string]string{
		"app secret key":       leakAppSecret,
		"access token":         leakToken,
		"session secret key":   leakSessionKey,
		"refresh token":        leakRefreshToken,
		"derived server key":   server,
		"signature":            okru.Sign(wire, server),
		"url-encoded token":    url.QueryEscape(leakToken),
		"token in a sig=value": "sig=" + okru.Sign(wire, server),
	}
}

func assertNoSecrets(t *testing.T, where, text string, secrets map[string]string) {
	t.Helper()
	for kind, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks the %s: %s", where, kind, text)
		}
	}
}

// formatted prints v with every verb a program might log it with.
func formatted(v any) string {
	return fmt.Sprintf("%v|%+v|%#v|%s|%q", v, v, v, v, v)
}

func TestNoSecretsInTransportErrors(t *testing.T) {
	t.Parallel()
	// GET puts the token and the signature in the URL, which *url.Error
	// prints; the refused connection must not leak them.
	api := okru.New(leakSession(t, closedURL(t)), &okru.Options{UseGET: true, Rate: okru.Unlimited, Retry: okru.RetryPolicy{MaxAttempts: 1}})
	_, err := api.Call(t.Context(), "users.getInfo", okru.Params{"uids": "1"})
	var te *okru.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	secrets := leakSecrets("users.getInfo", map[string]string{"uids": "1"})
	assertNoSecrets(t, "transport error", formatted(err), secrets)
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		assertNoSecrets(t, fmt.Sprintf("unwrapped %T", e), e.Error(), secrets)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.Contains(ue.URL, "access_token="+okru.Redacted) {
		t.Errorf("the *url.Error URL is not redacted but readable: %v", ue)
	}
}

// echoAnswers are servers that send back what they were sent, and more.
var echoAnswers = map[string]func(w http.ResponseWriter, req fakeRequest){
	"api error": func(w http.ResponseWriter, req fakeRequest) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("Invocation-Error", "100")
		fmt.Fprintf(w, `{"error_code":100,"error_msg":%q,"error_data":{"echo":%q,"keys":%q}}`,
			"PARAM : got "+req.RawBody+req.RawQuery, req.RawBody,
			leakAppSecret+" "+leakSessionKey+" "+leakRefreshToken+" "+okru.ServerSecret(leakToken, leakAppSecret))
	},
	"html page": func(w http.ResponseWriter, req fakeRequest) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<pre>%s%s %s</pre>", req.RawQuery, req.RawBody, okru.ServerSecret(leakToken, leakAppSecret)+leakSessionKey)
	},
	"result that does not decode": func(w http.ResponseWriter, req fakeRequest) {
		writeResult(w, fmt.Sprintf("%q", req.RawBody+req.RawQuery+leakSessionKey+leakAppSecret))
	},
}

func TestNoSecretsInServerEchoes(t *testing.T) {
	t.Parallel()
	for name, echo := range echoAnswers {
		for _, get := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s get=%v", name, get), func(t *testing.T) {
				t.Parallel()
				f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, req fakeRequest) { echo(w, req) })
				var logs bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				api := okru.New(leakSession(t, f.URL), &okru.Options{UseGET: get, Rate: okru.Unlimited, Retry: fastRetry, Logger: logger})
				var out int
				err := api.CallInto(t.Context(), "users.getInfo", okru.Params{"uids": "1"}, &out, okru.AllowRetry())
				if err == nil {
					t.Fatal("no error")
				}
				secrets := leakSecrets("users.getInfo", map[string]string{"uids": "1"})
				assertNoSecrets(t, "error", formatted(err), secrets)
				var apiErr *okru.Error
				if errors.As(err, &apiErr) {
					assertNoSecrets(t, "error data", string(apiErr.Data), secrets)
					assertNoSecrets(t, "error message", apiErr.Msg, secrets)
				}
				var de *okru.DecodeError
				if errors.As(err, &de) {
					assertNoSecrets(t, "decode error excerpt", de.Excerpt, secrets)
				}
				assertNoSecrets(t, "log", logs.String(), secrets)
			})
		}
	}
}

// TestNoSecretsInLogs drives retries and logs the session and token
// themselves through both slog handlers.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	handlers := map[string]func(io.Writer) slog.Handler{
		"text": func(w io.Writer) slog.Handler {
			return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"json": func(w io.Writer) slog.Handler {
			return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, failFirst(2, func(w http.ResponseWriter) {
				writeAPIError(w, okru.CodeService, "busy; you sent access_token="+leakToken+" and key "+leakSessionKey)
			}))
			var logs bytes.Buffer
			logger := slog.New(newHandler(&logs))
			s := leakSession(t, f.URL)
			api := okru.New(s, &okru.Options{Rate: okru.Unlimited, Retry: fastRetry, Logger: logger})
			if _, err := api.Call(t.Context(), "users.getInfo", okru.Params{"uids": "1"}); err != nil {
				t.Fatal(err)
			}
			logger.Info("state", "session", s, "token", s.Token(), "token_ptr", ptr(s.Token()))
			if strings.Count(logs.String(), "retrying") != 2 {
				t.Errorf("want two retry lines, got:\n%s", logs.String())
			}
			assertNoSecrets(t, "log", logs.String(), leakSecrets("users.getInfo", map[string]string{"uids": "1"}))
		})
	}
}

func TestNoSecretsInFormattedValues(t *testing.T) {
	t.Parallel()
	s := leakSession(t, okru.DefaultAPIURL)
	tok := s.Token()
	values := map[string]any{"*Session": s, "Token": tok, "*Token": &tok, "[]Token": []okru.Token{tok},
		"struct with a token": struct{ T okru.Token }{tok}}
	secrets := leakSecrets("users.getInfo", nil)
	for name, v := range values {
		text := formatted(v)
		assertNoSecrets(t, name, text, secrets)
		if !strings.Contains(text, "access_token=(set)") {
			t.Errorf("%s does not say the token is set: %s", name, text)
		}
	}
}
