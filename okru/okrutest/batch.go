package okrutest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/okru-run/okru-run/okru"
)

// maxBatchCalls is the most calls one batch.executeV2 takes.
const maxBatchCalls = 50

func init() {
	registerMethod("batch.executeV2", methodSpec{handle: batchExecute, required: []string{"methods"}, session: okru.SessionOptional})
}

// batchExecute runs the calls of methods, a JSON array like
// [{"users.getInfo": {"params": {"uids": "1,2"}}}, ...], with the batch's
// own session, and answers an array aligned with it: {"ok": result} or
// {"error": {"error_code", "error_msg", "error_data"}} per call. Each call
// goes through the checks of a call of its own (method, session rule,
// permissions, required parameters, flood limit, injected errors) and is
// recorded in the call log.
func batchExecute(ctx context.Context, inv *invocation) (any, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(inv.param("methods")), &items); err != nil {
		return nil, invalidParam("methods", `want a JSON array like [{"users.getInfo": {"params": {"uids": "1"}}}]`)
	}
	if len(items) == 0 || len(items) > maxBatchCalls {
		return nil, invalidParam("methods", fmt.Sprintf("want 1 to %d calls, got %d", maxBatchCalls, len(items)))
	}
	out := make([]any, len(items))
	for i, item := range items {
		res, e := inv.batchItem(ctx, item)
		if e != nil {
			out[i] = map[string]any{"error": map[string]any{"error_code": int(e.code), "error_msg": e.Error(), "error_data": nil}}
			continue
		}
		out[i] = map[string]any{"ok": res}
	}
	return out, nil
}

// batchItem runs one call of a batch and records it.
func (inv *invocation) batchItem(ctx context.Context, item map[string]json.RawMessage) (any, *apiError) {
	if len(item) != 1 {
		return nil, errorf(okru.CodeParam, "Each item of methods must have exactly one key, the method name; this one has %d", len(item))
	}
	var method string
	var body json.RawMessage
	for method, body = range item {
	}
	s := inv.srv
	call := Call{Method: method, Time: s.now(), Circuit: inv.circuit}
	if inv.user >= 0 {
		call.UID = s.graph.users[inv.user].uid
	}
	res, e := inv.runBatchItem(ctx, method, body, &call)
	if e != nil {
		call.Code = e.code
	}
	s.calls.add(call)
	return res, e
}

func (inv *invocation) runBatchItem(ctx context.Context, method string, body json.RawMessage, call *Call) (any, *apiError) {
	var req struct {
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, errorf(okru.CodeParam, `The call of %s must be {"params": {...}}`, method)
	}
	params := make(map[string]string, len(req.Params))
	for k, raw := range req.Params {
		v, ok, err := wireValue(raw)
		if err != nil {
			return nil, invalidParam(k, err.Error())
		}
		if ok {
			params[k] = v
		}
	}
	call.Params = publicParams(params)
	spec, emulated := methodTable[method]
	if _, known := okru.LookupMethod(method); !known && !emulated {
		return nil, errorf(okru.CodeMethod, "Method %s does not exist", method)
	}
	if method == "batch.executeV2" || spec.unsigned {
		return nil, errorf(okru.CodeParam, "Method %s cannot be called inside a batch", method)
	}
	sub := &invocation{srv: inv.srv, method: method, spec: spec, params: params,
		token: inv.token, sess: inv.sess, user: inv.user, circuit: inv.circuit}
	return inv.srv.execute(ctx, sub)
}

// wireValue turns a JSON parameter value of a batch into the string a call
// would send: strings as they are, numbers and booleans as their text,
// objects and arrays as compact JSON; null leaves the parameter out.
func wireValue(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", false, err
	}
	return b.String(), true, nil
}
