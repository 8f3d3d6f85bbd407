package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// apiCaller is the smallest Caller over real okru clients: what the engine
// does, minus its journal and events.
type apiCaller struct {
	apis map[string]*okru.API
	def  string
}

func (c *apiCaller) api(session string) *okru.API {
	if session == "" {
		session = c.def
	}
	return c.apis[session]
}

func (c *apiCaller) Call(ctx context.Context, session, method string, params map[string]any) (json.RawMessage, error) {
	return c.api(session).Call(ctx, method, okru.Params(params))
}

func (c *apiCaller) Pages(ctx context.Context, session, method string, params map[string]any) iter.Seq2[json.RawMessage, error] {
	return c.api(session).Pages(ctx, method, okru.Params(params))
}

func (c *apiCaller) Sessions() []string { return slices.Sorted(maps.Keys(c.apis)) }

// newSandbox starts the emulator and returns a Caller with two sessions:
// "main" for the demo user (the default) and "friend" for one of its
// friends, whose uid it returns too.
func newSandbox(t *testing.T) (*okrutest.Server, *apiCaller, string) {
	t.Helper()
	srv := okrutest.NewServer(okrutest.Config{Seed: 7, Users: 300})
	t.Cleanup(srv.Close)
	app, demo := srv.App(), srv.DemoUser()
	// No pacing: the sandbox has no flood limit unless a test sets one.
	opts := &okru.Options{Rate: okru.Unlimited}
	mainAPI := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), opts)

	raw, err := mainAPI.Call(t.Context(), "friends.get", nil)
	if err != nil {
		t.Fatal(err)
	}
	var friends []string
	if err := json.Unmarshal(raw, &friends); err != nil || len(friends) == 0 {
		t.Fatalf("friends.get: %s, %v", raw, err)
	}
	tok := srv.IssueToken(friends[0])
	friendAPI := okru.New(okru.ServerSession(app.Key, app.SecretKey, tok.AccessToken, okru.WithAPIURL(srv.URL)), opts)
	return srv, &apiCaller{apis: map[string]*okru.API{"main": mainAPI, "friend": friendAPI}, def: "main"}, friends[0]
}

// TestEmulatorWorkflow runs a report script against the emulator and checks
// it against the same data fetched from Go.
func TestEmulatorWorkflow(t *testing.T) {
	t.Parallel()
	srv, caller, friendUID := newSandbox(t)
	script := []byte(`
		local gid = input.group
		local ids = {}
		for page in okru.paginate("group.getMembers", {uid = gid, count = 7}) do
			for _, m in ipairs(page.members) do table.insert(ids, m.userId) end
		end
		local names = {}
		for i = 1, #ids, 100 do
			local chunk = {}
			for j = i, math.min(i + 99, #ids) do table.insert(chunk, ids[j]) end
			for _, u in ipairs(okru.call("users.getInfo", {uids = chunk, fields = {"first_name", "last_name"}})) do
				names[u.uid] = u.first_name .. " " .. u.last_name
			end
		end
		local me = okru.session("friend"):call("users.getLoggedInUser", {})
		log("members:", #ids)
		return {members = ids, names = json.object(names), friend = me, sessions = okru.sessions()}`)

	groups, err := caller.api("").Call(t.Context(), "group.getUserGroupsV2", nil)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Groups []struct{ GroupID string } `json:"groups"`
	}
	if err := json.Unmarshal(groups, &g); err != nil || len(g.Groups) == 0 {
		t.Fatalf("group.getUserGroupsV2: %s, %v", groups, err)
	}
	gid := g.Groups[0].GroupID
	srv.Reset()

	var logs []string
	out, err := lua.Run(t.Context(), "report.lua", script, lua.Options{
		Caller: caller,
		Input:  map[string]any{"group": gid},
		Log:    func(m string) { logs = append(logs, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Members  []string          `json:"members"`
		Names    map[string]string `json:"names"`
		Friend   string            `json:"friend"`
		Sessions []string          `json:"sessions"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}

	// The same data, fetched from Go.
	var want []string
	for page, err := range caller.api("").Pages(t.Context(), "group.getMembers", okru.Params{"uid": gid, "count": 7}) {
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Members []struct{ UserID string } `json:"members"`
		}
		if err := json.Unmarshal(page, &p); err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Members {
			want = append(want, m.UserID)
		}
	}
	if len(want) < 8 || !slices.Equal(got.Members, want) {
		t.Errorf("members: got %v, want %v (more than one page)", got.Members, want)
	}
	for _, uid := range want {
		u, ok := srv.LookupUser(uid)
		if !ok || got.Names[uid] != u.FirstName+" "+u.LastName {
			t.Errorf("name of %s: got %q, want %q", uid, got.Names[uid], u.FirstName+" "+u.LastName)
		}
	}
	if got.Friend != friendUID {
		t.Errorf("the friend session is user %q, want %q", got.Friend, friendUID)
	}
	if !slices.Equal(got.Sessions, []string{"friend", "main"}) {
		t.Errorf("sessions: %v", got.Sessions)
	}
	if len(logs) != 1 || logs[0] != "members: "+itoa(len(want)) {
		t.Errorf("logs: %q", logs)
	}

	// What the server received from the script: lists comma-joined.
	infoCalls := 0
	for _, c := range srv.Calls() {
		if c.Method != "users.getInfo" {
			continue
		}
		infoCalls++
		if c.Params["fields"] != "first_name,last_name" || c.Code != 0 {
			t.Errorf("users.getInfo fields sent as %q, answered code %d", c.Params["fields"], c.Code)
		}
	}
	if infoCalls != (len(want)+99)/100 {
		t.Errorf("%d users.getInfo calls for %d members", infoCalls, len(want))
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestEmulatorPostAttachment sends a nested table as a JSON attachment: the
// sandbox checks its signature and parses it.
func TestEmulatorPostAttachment(t *testing.T) {
	t.Parallel()
	srv, caller, _ := newSandbox(t)
	out, err := lua.Run(t.Context(), "post.lua", []byte(`
		local id = okru.call("mediatopic.post", {
			type = "USER",
			attachment = {media = {{type = "text", text = "привет из Lua"}, {type = "link", url = "https://ok.ru/"}}},
		})
		return {id = id, kind = type(id)}`), lua.Options{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ ID, Kind string }
	if err := json.Unmarshal(out, &got); err != nil || got.ID == "" || got.Kind != "string" {
		t.Fatalf("result %s, %v", out, err)
	}
	calls := srv.Calls()
	last := calls[len(calls)-1]
	want := `{"media":[{"text":"привет из Lua","type":"text"},{"type":"link","url":"https://ok.ru/"}]}`
	if last.Method != "mediatopic.post" || last.Code != 0 || last.Params["attachment"] != want {
		t.Errorf("server got %s code %d attachment %s, want %s", last.Method, last.Code, last.Params["attachment"], want)
	}
}

// TestEmulatorErrors checks that the sandbox's error answers reach the script
// with their codes, and Go through the ScriptError.
func TestEmulatorErrors(t *testing.T) {
	t.Parallel()
	srv, caller, _ := newSandbox(t)

	out, err := lua.Run(t.Context(), "errors.lua", []byte(`
		local _, err = okru.pcall("users.getInfo", {uids = "1"})
		return {code = err.code, name = err.name, class = err.class, method = err.method}`), lua.Options{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"class":"request","code":100,"method":"users.getInfo","name":"PARAM"}`; string(out) != want {
		t.Errorf("missing parameter: got %s, want %s", out, want)
	}

	srv.ExpireToken(srv.DemoUser().AccessToken)
	_, err = lua.Run(t.Context(), "expired.lua", []byte("local x = 1\nreturn okru.call('friends.get', {})"), lua.Options{Caller: caller})
	se, ok := errors.AsType[*lua.ScriptError](err)
	if !ok || se.Line != 2 {
		t.Fatalf("got %v, want a ScriptError at line 2", err)
	}
	apiErr, ok := errors.AsType[*okru.Error](err)
	if !ok || apiErr.Code != okru.CodeParamSessionExpired {
		t.Errorf("errors.As *okru.Error: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "expired.lua:2: call friends.get: PARAM_SESSION_EXPIRED (102)") {
		t.Errorf("error text %q", err)
	}
	if strings.Contains(err.Error(), srv.DemoUser().AccessToken) || strings.Contains(se.Traceback, srv.DemoUser().AccessToken) {
		t.Error("the error shows the access token")
	}
}
