package okrutest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// jsonContentType is ok.ru's Content-Type, byte for byte: some clients
// compare the string, so there is no space after the semicolon.
const jsonContentType = "application/json;charset=utf-8"

// maxRequestBody bounds a form body; ok.ru's own limit is not documented,
// and no API call needs more than a few kilobytes.
const maxRequestBody = 8 << 20

// Signature circuits as recorded in Call.Circuit.
const (
	circuitServer = "server-server"
	circuitClient = "client-server"
	circuitApp    = "no-session"
	// circuitUnsigned marks the calls of unsigned methods (auth.login).
	circuitUnsigned = "unsigned"
)

// serveAPI answers one API call. method is "" for fb.do, which names the
// method in its parameters.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	start := time.Now()
	call := Call{Time: s.now()}
	params, perr := readParams(w, r)
	if method == "" {
		method = params["method"]
	}
	call.Method, call.Params = method, publicParams(params)
	if !s.faults.delay(r.Context()) {
		call.Abandoned = true
		s.calls.add(call)
		s.logger.Debug("call abandoned by the client", "method", method)
		return
	}
	var result any
	err := perr
	if err == nil {
		var inv *invocation
		inv, err = s.authenticate(method, params)
		if inv != nil {
			call.Circuit = inv.circuit
			if inv.user >= 0 {
				call.UID = s.graph.users[inv.user].uid
			}
		}
		if err == nil {
			result, err = s.execute(r.Context(), inv)
		}
	}
	if err != nil {
		call.Code = err.code
	}
	s.calls.add(call)
	s.logger.Debug("call", "method", method, "code", int(call.Code), "duration", time.Since(start))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// readParams returns the call's parameters, query and form body together
// (split on "&" only: see parseParams), with values exactly as decoded:
// they are what the client signed.
func readParams(w http.ResponseWriter, r *http.Request) (map[string]string, *apiError) {
	form, err := requestParams(w, r, maxRequestBody)
	if err != nil {
		return map[string]string{}, errorf(okru.CodeRequest, "cannot read the request parameters: %v", err)
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 1 {
			// Which value would the client have signed? Refuse to guess.
			return params, errorf(okru.CodeParam, "Parameter %s is given %d times; send it once", k, len(vs))
		}
		params[k] = vs[0]
	}
	return params, nil
}

// authenticate runs the checks every call goes through, in ok.ru's order:
// method (3), application key (101), signature (104), token (103, 102).
// The invocation is returned with the circuit even when a later check
// fails, for the call log.
func (s *Server) authenticate(method string, params map[string]string) (*invocation, *apiError) {
	spec, emulated := methodTable[method]
	if method == "" {
		return nil, errorf(okru.CodeMethod, "Method is missing: pass method=<group.method> to fb.do or call /api/<group>/<method>")
	}
	if _, known := okru.LookupMethod(method); !known && !emulated {
		msg := "Method " + method + " does not exist"
		if alt := okru.Suggest(method); len(alt) > 0 {
			msg += "; did you mean " + strings.Join(alt, ", ") + "?"
		}
		return nil, errorf(okru.CodeMethod, "%s", msg)
	}
	switch key := params["application_key"]; {
	case key == "":
		return nil, errorf(okru.CodeParamAPIKey, "Missing application_key: pass the application's public key")
	case key != s.app.Key:
		return nil, errorf(okru.CodeParamAPIKey, "Unknown application_key: this sandbox has one application, see its App()")
	}
	if spec.unsigned {
		return &invocation{srv: s, method: method, spec: spec, params: params, user: -1, circuit: circuitUnsigned}, nil
	}
	sig := params["sig"]
	if sig == "" {
		return nil, errorf(okru.CodeParamSignature, "Missing sig: every call must be signed")
	}
	inv := &invocation{srv: s, method: method, spec: spec, params: params, user: -1}
	token := params["access_token"]
	if token == "" {
		token = params["session_key"]
	}
	if token == "" {
		if sig != okru.Sign(params, s.app.SecretKey) {
			return nil, errorf(okru.CodeParamSignature, "Invalid signature: a call without a session is signed with the application secret key")
		}
		inv.circuit = circuitApp
		return inv, nil
	}
	sess := s.tokens.lookup(token)
	switch {
	case sig == okru.Sign(params, okru.ServerSecret(token, s.app.SecretKey)):
		inv.circuit = circuitServer
	case sess != nil && sig == okru.Sign(params, sess.secret):
		inv.circuit = circuitClient
	case sess == nil:
		// The client-server secret of an unknown token cannot be known, so
		// the token, not the signature, is what to fix.
		return nil, errorf(okru.CodeParamSessionKey, "Invalid session key: the access token is unknown to this sandbox")
	default:
		return nil, errorf(okru.CodeParamSignature, "Invalid signature: sign with md5(access_token + application secret key) or the session secret key issued with the token")
	}
	if sess == nil {
		return inv, errorf(okru.CodeParamSessionKey, "Invalid session key: the access token is unknown to this sandbox")
	}
	inv.token, inv.sess, inv.user = token, sess, sess.user
	now := s.now()
	if sess.expired(now) {
		return inv, errorf(okru.CodeParamSessionExpired, "Session expired: get a new access token")
	}
	if sess.long {
		sess.touch(now)
	}
	return inv, nil
}

// execute applies the per-method checks (flood limit 8, session rule 453 and
// 451, permissions 10, required parameters 100), then injected errors, then
// runs the handler. The session rule, permissions and required parameters
// are the catalog's (okru.Method), no more: see CONFORMANCE.md.
func (s *Server) execute(ctx context.Context, inv *invocation) (any, *apiError) {
	if !s.faults.allow(inv.floodKey(), s.now()) {
		return nil, errorf(okru.CodeFloodBlocked, "Flood limit reached for this session: slow down and retry later")
	}
	cat, _ := okru.LookupMethod(inv.method)
	// The sandbox's application is external, as most are: methods whose
	// session is optional "but required for External applications" need one.
	rule := cat.SessionFor(true)
	if inv.spec.session != "" {
		rule = inv.spec.session
	}
	switch {
	case rule == okru.SessionRequired && inv.sess == nil:
		return nil, errorf(okru.CodeSessionRequired, "Method %s requires a user session: send access_token", inv.method)
	case rule == okru.SessionProhibited && inv.sess != nil:
		return nil, errorf(okru.CodeNotSessionMethod, "Method %s must be called without a session: drop access_token and sign with the application secret key", inv.method)
	}
	if inv.sess != nil {
		if p := cat.MissingPermission(inv.params, inv.sess.has); p != "" {
			return nil, errorf(okru.CodePermissionDenied, "Method %s requires permission %s, which this token was not granted", inv.method, p)
		}
	}
	if missing := inv.missingParams(cat); len(missing) > 0 {
		return nil, missingParam(missing[0])
	}
	if e := s.faults.injected(inv.method); e != nil {
		return nil, e
	}
	if inv.spec.handle == nil {
		return nil, errorf(okru.CodeMethod, "sandbox: method %s is not emulated", inv.method)
	}
	res, err := inv.spec.handle(ctx, inv)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, errorf(okru.CodeUnknown, "sandbox: %v", err)
	}
	return res, nil
}

// writeError writes ok.ru's error envelope: HTTP 200, the Invocation-Error
// header and {"error_code", "error_msg", "error_data"}.
func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Invocation-Error", strconv.Itoa(int(e.code)))
	writeJSON(w, http.StatusOK, struct {
		Code int    `json:"error_code"`
		Msg  string `json:"error_msg"`
		Data any    `json:"error_data"`
	}{int(e.code), e.Error(), nil})
}

// writeJSON writes v with ok.ru's exact Content-Type. HTML escaping is off:
// ok.ru sends "<" and "&" as they are.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// A handler built a value JSON cannot hold: a sandbox bug, reported
		// in ok.ru's envelope so that clients still parse the answer.
		b.Reset()
		w.Header().Set("Invocation-Error", strconv.Itoa(int(okru.CodeUnknown)))
		fmt.Fprintf(&b, `{"error_code":%d,"error_msg":"UNKNOWN : sandbox: cannot encode the answer","error_data":null}`+"\n", int(okru.CodeUnknown))
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
