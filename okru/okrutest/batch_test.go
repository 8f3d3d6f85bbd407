package okrutest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

func TestBatchExecute(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 60})
	demo := s.DemoUser()
	c := demoCaller(s, circuitServer)
	methods := fmt.Sprintf(`[
		{"users.getInfo": {"params": {"uids": %q, "fields": "name"}}},
		{"users.getInfo": {"params": {"uids": %q}}},
		{"users.nope": {"params": {}}},
		{"friends.getMutualFriends": {"params": {"target_id": %q, "count": 5, "flag": true, "skip": null}}},
		{"batch.executeV2": {"params": {"methods": "[]"}}},
		{"auth.login": {"params": {"user_name": "a", "password": "b"}}},
		{"users.getInfo": {}, "friends.get": {}},
		{"friends.get": "not an object"}
	]`, demo.UID, demo.UID, s.graph.users[1].uid)
	var items []map[string]json.RawMessage
	c.call(t, "batch.executeV2", map[string]string{"methods": methods}).decode(t, &items)
	if len(items) != 8 {
		t.Fatalf("%d items", len(items))
	}
	var users []map[string]string
	if err := json.Unmarshal(items[0]["ok"], &users); err != nil || len(users) != 1 || users[0]["uid"] != demo.UID || users[0]["name"] != demo.Name {
		t.Errorf("item 1: %s", items[0])
	}
	if _, ok := items[3]["ok"]; !ok {
		t.Errorf("item 4 (numbers, booleans and null as parameters): %s", items[3])
	}
	wantErrors := map[int]okru.Code{1: okru.CodeParam, 2: okru.CodeMethod, 4: okru.CodeParam, 5: okru.CodeParam, 6: okru.CodeParam, 7: okru.CodeParam}
	for i, code := range wantErrors {
		var e struct {
			Code int             `json:"error_code"`
			Msg  string          `json:"error_msg"`
			Data json.RawMessage `json:"error_data"`
		}
		if err := json.Unmarshal(items[i]["error"], &e); err != nil || e.Code != int(code) || !strings.HasPrefix(e.Msg, code.Name()+" : ") || string(e.Data) != "null" {
			t.Errorf("item %d: %s, want error %d", i+1, items[i], code)
		}
	}

	// Each call is logged before the batch; the item with two keys names
	// no call and is not.
	calls := s.Calls()
	if len(calls) != 8 || calls[7].Method != "batch.executeV2" || calls[6].Method != "friends.get" || calls[6].Code != okru.CodeParam {
		t.Fatalf("call log: %+v", calls)
	}
	if inner := calls[3]; inner.Method != "friends.getMutualFriends" || inner.Params["count"] != "5" || inner.Params["flag"] != "true" ||
		inner.UID != demo.UID || inner.Circuit != circuitServer {
		t.Errorf("inner call logged as %+v", inner)
	}
	if _, logged := calls[5].Params["password"]; logged {
		t.Error("a password in a batch was logged")
	}
}

func TestBatchExecuteChecks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 61})
	c := demoCaller(s, circuitClient)
	call := `{"friends.get": {"params": {}}}`
	many := "[" + strings.Repeat(call+",", maxBatchCalls) + call + "]"
	checkErrorAnswer(t, c.call(t, "batch.executeV2", map[string]string{"methods": many}), okru.CodeParam, "want 1 to 50 calls")
	checkErrorAnswer(t, c.call(t, "batch.executeV2", map[string]string{"methods": "[]"}), okru.CodeParam, "methods")
	checkErrorAnswer(t, c.call(t, "batch.executeV2", map[string]string{"methods": "{"}), okru.CodeParam, "JSON array")
	checkErrorAnswer(t, c.call(t, "batch.executeV2", nil), okru.CodeParam, "methods")

	// Calls in a batch pass the checks of calls: scopes and injected errors.
	narrow := tokenCaller(s, s.IssueToken(s.DemoUser().UID, "VALUABLE_ACCESS"), circuitClient)
	s.InjectError(ErrorRule{Method: "friends.get", Code: okru.CodeService})
	var items []map[string]json.RawMessage
	narrow.call(t, "batch.executeV2", map[string]string{"methods": `[{"photosV2.getUploadUrl":{"params":{}}},{"friends.get":{"params":{}}},{"users.getLoggedInUser":{"params":{}}}]`}).decode(t, &items)
	codeOf := func(i int) int {
		var e struct {
			Code int `json:"error_code"`
		}
		json.Unmarshal(items[i]["error"], &e)
		return e.Code
	}
	if codeOf(0) != int(okru.CodePermissionDenied) || codeOf(1) != int(okru.CodeService) || string(items[2]["ok"]) != fmt.Sprintf("%q", s.DemoUser().UID) {
		t.Errorf("items %s", items)
	}
}
