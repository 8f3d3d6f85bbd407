package okrutest

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The sandbox reads every query and form body with parseParams, not with
// url.ParseQuery or http.Request.ParseForm: ok.ru's servers are Java
// servlets, which split parameters on "&" only, while Go refuses a raw ";"
// ("invalid semicolon separator in query") or, in URL.Query, drops the
// pair. Clients send one inside values: scope=A;B (the official JS SDK),
// fields=first_name;last_name.

// parseParams adds the pairs of a query string or a form body to v,
// splitting pairs on "&" only. Every pair that can be read is added; the
// error is about the first that cannot (a bad %-escape).
func parseParams(raw string, v url.Values) error {
	var first error
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err == nil {
			val, err = url.QueryUnescape(val)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		v.Add(key, val)
	}
	return first
}

// queryParams returns the readable pairs of the request's query; pairs
// that cannot be unescaped are left out, as URL.Query does.
func queryParams(r *http.Request) url.Values {
	v := url.Values{}
	_ = parseParams(r.URL.RawQuery, v)
	return v
}

// formParams returns the parameters of a form body (POST, PUT or PATCH
// with Content-Type application/x-www-form-urlencoded, as ParseForm reads
// them; empty for anything else), reading at most limit bytes.
func formParams(w http.ResponseWriter, r *http.Request, limit int64) (url.Values, error) {
	v := url.Values{}
	if r.Body == nil || (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return v, nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return v, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return v, err
	}
	return v, parseParams(string(body), v)
}

// requestParams returns the form body's parameters and then the query's,
// together, as http.Request.Form holds them.
func requestParams(w http.ResponseWriter, r *http.Request, limit int64) (url.Values, error) {
	v, err := formParams(w, r, limit)
	if err != nil {
		return v, err
	}
	return v, parseParams(r.URL.RawQuery, v)
}
