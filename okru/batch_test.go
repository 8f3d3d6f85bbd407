package okru_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// TestCallBatch sends calls in one batch.executeV2 request, one of which
// fails on the server and one of which cannot be sent at all.
func TestCallBatch(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 17})
	api := sandboxAPI(srv, nil)
	demo := srv.DemoUser()
	results, err := api.CallBatch(t.Context(), []okru.BatchCall{
		{Method: "users.getInfo", Params: okru.Params{"uids": []string{demo.UID}, "fields": "uid,name"}},
		{Method: "users.getInfo", Params: okru.Params{"uids": demo.UID}}, // fields missing
		{Method: "users/getInfo"},
		{Method: "friends.get"},
		{Method: "users.isAppUser", Params: okru.Params{"uid": demo.UID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 5 {
		t.Fatalf("%d results", len(results))
	}
	var users []struct {
		UID  string `json:"uid"`
		Name string `json:"name"`
	}
	if results[0].Err != nil || json.Unmarshal(results[0].Result, &users) != nil || len(users) != 1 || users[0].UID != demo.UID {
		t.Errorf("call 1: %s, %v", results[0].Result, results[0].Err)
	}
	var apiErr *okru.Error
	if !errors.As(results[1].Err, &apiErr) || apiErr.Code != okru.CodeParam || apiErr.Method != "users.getInfo" || !strings.Contains(apiErr.Msg, "fields") {
		t.Errorf("call 2: err = %v, want PARAM (100) naming fields", results[1].Err)
	}
	if results[2].Err == nil || !strings.Contains(results[2].Err.Error(), "not a method name") {
		t.Errorf("call 3: err = %v, want a refusal before sending", results[2].Err)
	}
	var friends []string
	if results[3].Err != nil || json.Unmarshal(results[3].Result, &friends) != nil || len(friends) == 0 {
		t.Errorf("call 4: %s, %v", results[3].Result, results[3].Err)
	}
	if results[4].Err != nil || string(results[4].Result) != "true" {
		t.Errorf("call 5: %s, %v", results[4].Result, results[4].Err)
	}

	batches := callsOf(srv, "batch.executeV2")
	if len(batches) != 1 || batches[0].Code != 0 {
		t.Fatalf("sandbox saw batches %+v, want one", batches)
	}
	if inner := callsOf(srv, "users.getInfo"); len(inner) != 2 || inner[0].Code != 0 || inner[1].Code != okru.CodeParam || inner[0].Circuit != "server-server" {
		t.Errorf("sandbox saw the batch's users.getInfo as %+v", inner)
	}
}

func TestCallBatchChunks(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 18})
	api := sandboxAPI(srv, nil)
	calls := make([]okru.BatchCall, 2*okru.MaxBatchCalls+7)
	for i := range calls {
		calls[i] = okru.BatchCall{Method: "users.isAppUser", Params: okru.Params{"uid": srv.DemoUser().UID}}
	}
	results, err := api.CallBatch(t.Context(), calls)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil || string(r.Result) != "true" {
			t.Fatalf("call %d: %s, %v", i+1, r.Result, r.Err)
		}
	}
	if n := len(callsOf(srv, "batch.executeV2")); n != 3 {
		t.Errorf("%d batch requests for %d calls, want 3", n, len(calls))
	}
}

// TestCallBatchFailsWhole: a batch the server refuses as a whole gives each
// of its calls the error, and CallBatch returns it too.
func TestCallBatchFailsWhole(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 19})
	tok := srv.IssueToken(srv.DemoUser().UID, okru.ScopeValuableAccess)
	srv.ExpireToken(tok.AccessToken)
	api := okru.New(okru.ClientSession(srv.App().Key, tok.AccessToken, tok.SessionSecretKey, okru.WithAPIURL(srv.URL)),
		&okru.Options{Rate: okru.Unlimited})
	results, err := api.CallBatch(t.Context(), []okru.BatchCall{{Method: "friends.get"}, {Method: "friends.get"}})
	if !errors.Is(err, okru.CodeParamSessionExpired) {
		t.Fatalf("err = %v, want the expiry", err)
	}
	for i, r := range results {
		if !errors.Is(r.Err, okru.CodeParamSessionExpired) {
			t.Errorf("call %d: err = %v", i+1, r.Err)
		}
	}
	if n := len(callsOf(srv, "friends.get")); n != 0 {
		t.Errorf("the sandbox ran %d calls of a refused batch", n)
	}
}

// TestCallBatchAnswerForms reads the item forms a server may answer:
// {"ok": ...}, {"error": {...}}, a bare error envelope, and items that are
// neither; and checks the methods parameter sent.
func TestCallBatchAnswerForms(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		writeResult(w, `[{"ok":{"a":1}},{"error":{"error_code":10,"error_msg":"PERMISSION_DENIED : no `+accessToken+`","error_data":null}},`+
			`{"error_code":3,"error_msg":"METHOD : unknown"},{"what":1},"text"]`)
	})
	api := newTestAPI(f, nil)
	results, err := api.CallBatch(t.Context(), []okru.BatchCall{
		{Method: "users.getInfo", Params: okru.Params{"uids": []int{1, 2}, "fields": "name", "flag": false}},
		{Method: "friends.get"},
		{Method: "users.getInf"},
		{Method: "group.getInfo"},
		{Method: "group.getMembers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(results[0].Result) != `{"a":1}` {
		t.Errorf("item 1: %s %v", results[0].Result, results[0].Err)
	}
	if !errors.Is(results[1].Err, okru.CodePermissionDenied) || strings.Contains(results[1].Err.Error(), accessToken) {
		t.Errorf("item 2: %v, want PERMISSION_DENIED without the token", results[1].Err)
	}
	var e *okru.Error
	if !errors.As(results[2].Err, &e) || e.Code != okru.CodeMethod || len(e.DidYouMean) == 0 {
		t.Errorf("item 3: %v, want METHOD with a suggestion", results[2].Err)
	}
	var de *okru.DecodeError
	for i := 3; i < 5; i++ {
		if !errors.As(results[i].Err, &de) {
			t.Errorf("item %d: %v, want a DecodeError", i+1, results[i].Err)
		}
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Form.Get("method") != "batch.executeV2" {
		t.Fatalf("requests %+v", reqs)
	}
	want := `[{"users.getInfo":{"params":{"fields":"name","flag":"false","uids":"1,2"}}},{"friends.get":{"params":{}}},` +
		`{"users.getInf":{"params":{}}},{"group.getInfo":{"params":{}}},{"group.getMembers":{"params":{}}}]`
	if got := reqs[0].Form.Get("methods"); got != want {
		t.Errorf("methods =\n%s\nwant\n%s", got, want)
	}

	// An answer that is not aligned with the calls fails them all.
	short := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `[{"ok":1}]`) })
	results, err = newTestAPI(short, nil).CallBatch(t.Context(), []okru.BatchCall{{Method: "friends.get"}, {Method: "friends.get"}})
	if !errors.As(err, &de) || !errors.As(results[1].Err, &de) {
		t.Errorf("short answer: %v, %v", err, results)
	}
}
