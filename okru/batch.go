package okru

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// MaxBatchCalls is the most calls CallBatch sends in one batch.executeV2
// request; longer lists go in several requests.
const MaxBatchCalls = 50

// BatchCall is one call of a batch.
type BatchCall struct {
	Method string
	Params Params
}

// batchParams is the value of one call in batch.executeV2's methods array:
// {"users.getInfo": {"params": {"uids": "1,2"}}}. Values are the wire
// strings a call would send.
type batchParams struct {
	Params map[string]string `json:"params"`
}

// BatchResult is the outcome of one call of a batch: Result, or Err (an
// *Error for the server's error answer to that call).
type BatchResult struct {
	Result json.RawMessage
	Err    error
}

// CallBatch sends calls through batch.executeV2, MaxBatchCalls per request,
// and returns one result per call, in order. It is opt-in and never the
// only way: batch.executeV2 is known only from a reverse-engineered client,
// so use it where fewer requests matter and fall back to Call if ok.ru
// refuses it.
//
// Each call fails or succeeds on its own: a failing call has Err set and
// the others still have their results. A call that cannot be sent (a
// malformed method name or parameters, the wrong session for the method)
// fails without being sent. The error CallBatch returns is for a request that
// failed as a whole; the calls it carried then have that error as Err, and
// the results of the other requests are kept.
//
// A request whose calls are all read-only is retried like a read-only
// call; otherwise only when it surely never reached the server.
func (a *API) CallBatch(ctx context.Context, calls []BatchCall, opts ...CallOption) ([]BatchResult, error) {
	results := make([]BatchResult, len(calls))
	// Encode every call first; those that cannot be sent fail alone.
	type prepared struct {
		index int
		call  BatchCall
		wire  map[string]string
	}
	var ready []prepared
	for i, c := range calls {
		wire, err := a.prepareBatchCall(c)
		if err != nil {
			results[i].Err = err
			continue
		}
		ready = append(ready, prepared{i, c, wire})
	}
	var firstErr error
	for start := 0; start < len(ready); start += MaxBatchCalls {
		chunk := ready[start:min(start+MaxBatchCalls, len(ready))]
		methods := make([]map[string]batchParams, len(chunk))
		readOnly := true
		for k, p := range chunk {
			methods[k] = map[string]batchParams{p.call.Method: {Params: p.wire}}
			readOnly = readOnly && IsReadOnly(p.call.Method)
		}
		items, err := a.sendBatch(ctx, methods, readOnly, opts)
		for k, p := range chunk {
			if err != nil {
				results[p.index].Err = err
				continue
			}
			results[p.index] = batchItem(p.call.Method, items[k], a.s.secrets())
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return results, firstErr
}

// prepareBatchCall checks one call as Call would and encodes its
// parameters.
func (a *API) prepareBatchCall(c BatchCall) (map[string]string, error) {
	if !validMethodName(c.Method) {
		return nil, fmt.Errorf("call %q: not a method name: names are group.method, such as users.getInfo", c.Method)
	}
	if c.Method == "batch.executeV2" {
		return nil, fmt.Errorf("call %s: a batch cannot hold a batch", c.Method)
	}
	// The batch is signed once, with the session: each call must accept it.
	if _, err := a.checkSessionRule(c.Method); err != nil {
		return nil, fmt.Errorf("call %s: %w", c.Method, err)
	}
	wire, err := c.Params.encode()
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", c.Method, err)
	}
	return wire, nil
}

// sendBatch sends one batch.executeV2 request and returns its items,
// aligned with methods.
func (a *API) sendBatch(ctx context.Context, methods []map[string]batchParams, readOnly bool, opts []CallOption) ([]json.RawMessage, error) {
	const method = "batch.executeV2"
	body, err := marshalJSON(methods)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	if readOnly {
		opts = append(opts[:len(opts):len(opts)], AllowRetry())
	}
	raw, err := a.Call(ctx, method, Params{"methods": json.RawMessage(body)}, opts...)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	n := len(methods)
	if err := json.Unmarshal(raw, &items); err != nil || len(items) != n {
		if err == nil {
			err = fmt.Errorf("want an array of %d items, got %d", n, len(items))
		}
		return nil, &DecodeError{Method: method, Status: http.StatusOK, Err: err,
			Excerpt: excerpt(Redact(string(raw), a.s.secrets()...))}
	}
	return items, nil
}

// batchItem reads one item of batch.executeV2's answer: {"ok": result},
// or an error object, {"error": {"error_code", ...}} or the error envelope
// itself.
func batchItem(method string, raw json.RawMessage, secrets []string) BatchResult {
	var item struct {
		OK    json.RawMessage `json:"ok"`
		Error json.RawMessage `json:"error"`
		Code  *int            `json:"error_code"`
	}
	bad := func(why string) BatchResult {
		return BatchResult{Err: &DecodeError{Method: method, Status: http.StatusOK, Err: errors.New(why),
			Excerpt: excerpt(Redact(string(raw), secrets...))}}
	}
	if err := json.Unmarshal(raw, &item); err != nil {
		return bad("a batch item is not an object")
	}
	switch {
	case item.OK != nil:
		return BatchResult{Result: item.OK}
	case item.Error != nil:
		return BatchResult{Err: batchError(method, item.Error, secrets)}
	case item.Code != nil:
		return BatchResult{Err: batchError(method, raw, secrets)}
	}
	return bad(`a batch item has neither "ok" nor an error`)
}

func batchError(method string, raw json.RawMessage, secrets []string) error {
	var env struct {
		Code *int            `json:"error_code"`
		Msg  string          `json:"error_msg"`
		Data json.RawMessage `json:"error_data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Code == nil {
		return &DecodeError{Method: method, Status: http.StatusOK, Err: errors.New("a batch item's error has no error_code"),
			Excerpt: excerpt(Redact(string(raw), secrets...))}
	}
	e := &Error{Method: method, Code: Code(*env.Code), Msg: Redact(env.Msg, secrets...)}
	if len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
		e.Data = json.RawMessage(Redact(string(env.Data), secrets...))
	}
	if e.Code == CodeMethod {
		e.DidYouMean = Suggest(method)
	}
	return e
}
