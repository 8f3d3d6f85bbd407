package lua

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

func sessionExpired(method string) error {
	return &okru.Error{Method: method, Code: okru.CodeParamSessionExpired, Msg: "PARAM_SESSION_EXPIRED : Session expired", Data: json.RawMessage(`{"uid":"42"}`)}
}

func TestCall(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{
		sessions: []string{"main", "bot"},
		answers: map[string]string{
			"friends.get":     `["1", "2", "12345678901234567890"]`,
			"users.getInfo":   `[{"uid": "1", "first_name": "Анна"}]`,
			"users.isAppUser": `true`,
		},
	}
	got := mustRun(t, `
		local friends = okru.call("friends.get", {fid = "7"})
		local info = okru.call("users.getInfo", {uids = friends, fields = "first_name"}, "bot")
		local b = okru.session("bot")
		local viaDot = b.call("users.isAppUser", {})
		local viaColon = b:call("users.isAppUser", {uid = "3"})
		return {n = #friends, last = friends[3], name = info[1].first_name, dot = viaDot, colon = viaColon}
	`, Options{Caller: fc})
	want := `{"colon":true,"dot":true,"last":"12345678901234567890","n":3,"name":"Анна"}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	wantCalls := []fakeCall{
		{"", "friends.get", map[string]any{"fid": "7"}},
		{"bot", "users.getInfo", map[string]any{"uids": []any{"1", "2", "12345678901234567890"}, "fields": "first_name"}},
		{"bot", "users.isAppUser", map[string]any{}},
		{"bot", "users.isAppUser", map[string]any{"uid": "3"}},
	}
	if calls := fc.recorded(); !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("calls:\n got %#v\nwant %#v", calls, wantCalls)
	}
}

func TestCallError(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{errs: map[string]error{"friends.get": sessionExpired("friends.get")}}
	_, err := runScript(t, "local x = 1\n\nlocal f = okru.call('friends.get', {})\nreturn f", Options{Caller: fc})
	se := wantError(t, err, "test.lua:3: call friends.get: PARAM_SESSION_EXPIRED (102): Session expired")
	if se.Line != 3 {
		t.Errorf("Line = %d, want 3", se.Line)
	}
	apiErr, ok := errors.AsType[*okru.Error](err)
	if !ok || apiErr.Code != okru.CodeParamSessionExpired || apiErr.Method != "friends.get" {
		t.Errorf("errors.As *okru.Error = %v, %v", apiErr, ok)
	}
	if !errors.Is(err, okru.CodeParamSessionExpired) {
		t.Error("errors.Is(err, okru.CodeParamSessionExpired) is false")
	}
	if !strings.Contains(se.Traceback, "test.lua:3") {
		t.Errorf("Traceback %q does not show line 3", se.Traceback)
	}
}

// TestCallErrorInFunction checks that the line is the okru.call's, also
// deep in functions and when the error is re-raised elsewhere.
func TestCallErrorInFunction(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{errs: map[string]error{"friends.get": sessionExpired("friends.get")}}
	src := `local function load(id)
		return okru.call("friends.get", {fid = id})
	end
	local ok, err = pcall(load, "1")
	error(err)`
	_, err := runScript(t, src, Options{Caller: fc})
	se := wantError(t, err, "test.lua:2: call friends.get: PARAM_SESSION_EXPIRED (102)")
	if _, ok := errors.AsType[*okru.Error](err); !ok || se.Line != 2 {
		t.Errorf("line %d, errors.As %v", se.Line, ok)
	}
}

func TestErrorValue(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{errs: map[string]error{
		"friends.get":   sessionExpired("friends.get"),
		"users.getInfo": errors.New("transport failed: connection refused"),
	}}
	tests := []struct{ name, src, want string }{
		{
			"okru.pcall fields",
			`local r, err = okru.pcall("friends.get", {})
			return {r = r == nil, code = err.code, name = err.name, class = err.class, message = err.message,
				method = err.method, uid = err.data.uid, text = tostring(err), missing = err.nope == nil}`,
			`{"class":"auth","code":102,"message":"PARAM_SESSION_EXPIRED : Session expired","method":"friends.get","missing":true,"name":"PARAM_SESSION_EXPIRED","r":true,"text":"call friends.get: PARAM_SESSION_EXPIRED (102): Session expired","uid":"42"}`,
		},
		{
			"pcall around okru.call",
			`local ok, err = pcall(okru.call, "friends.get", {}) return {ok = ok, code = err.code}`,
			`{"code":102,"ok":false}`,
		},
		{
			"okru.pcall success",
			`local r, err = okru.pcall("users.isAppUser", {}) return {r = r, noerr = err == nil}`,
			`{"noerr":true,"r":true}`,
		},
		{
			"transport error has no code",
			`local _, err = okru.pcall("users.getInfo", {}) return {nocode = err.code == nil, noname = err.name == nil, message = err.message}`,
			`{"message":"call users.getInfo: transport failed: connection refused","nocode":true,"noname":true}`,
		},
		{
			"returned error encodes as an object",
			`local _, err = okru.pcall("friends.get", {}) return {failed = {err}}`,
			`{"failed":[{"class":"auth","code":102,"message":"PARAM_SESSION_EXPIRED : Session expired","method":"friends.get","name":"PARAM_SESSION_EXPIRED"}]}`,
		},
		{
			"session-bound pcall",
			`local _, err = okru.session("main"):pcall("friends.get", {}) return err.code`,
			`102`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCaller{sessions: []string{"main"}, errs: fc.errs}
			if got := mustRun(t, tt.src, Options{Caller: fc}); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTransportErrorRaised(t *testing.T) {
	t.Parallel()
	cause := errors.New("transport failed: connection refused")
	fc := &fakeCaller{errs: map[string]error{"users.getInfo": cause}}
	_, err := runScript(t, `return okru.call("users.getInfo", {uids = "1"})`, Options{Caller: fc})
	wantError(t, err, "test.lua:1: call users.getInfo: transport failed: connection refused")
	if !errors.Is(err, cause) {
		t.Error("the Caller's error is not wrapped")
	}
}

func TestPaginate(t *testing.T) {
	t.Parallel()
	pages := map[string][]string{"group.getMembers": {
		`{"members": [{"userId": "1"}, {"userId": "2"}], "anchor": "a1", "has_more": true}`,
		`{"members": [{"userId": "12345678901234567890"}], "anchor": "a2", "has_more": true}`,
		`{"members": [{"userId": "4"}], "has_more": false}`,
	}}

	t.Run("all pages", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{sessions: []string{"main"}, pages: pages}
		got := mustRun(t, `
			local ids, n = {}, 0
			for page in okru.paginate("group.getMembers", {uid = "g1", count = 2}, "main") do
				n = n + 1
				for _, m in ipairs(page.members) do table.insert(ids, m.userId) end
			end
			return {pages = n, ids = ids}`, Options{Caller: fc})
		if want := `{"ids":["1","2","12345678901234567890","4"],"pages":3}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		want := []fakeCall{{"main", "group.getMembers", map[string]any{"uid": "g1", "count": json.Number("2")}}}
		if calls := fc.recorded(); !reflect.DeepEqual(calls, want) {
			t.Errorf("calls %#v, want %#v", calls, want)
		}
	})

	t.Run("break stops the iteration", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{pages: pages}
		got := mustRun(t, `
			for page in okru.paginate("group.getMembers", {}) do return page.anchor end`, Options{Caller: fc})
		if got != `"a1"` {
			t.Errorf("got %s", got)
		}
		if fc.stopped != 1 {
			t.Errorf("the page iterator was stopped %d times, want 1", fc.stopped)
		}
	})

	t.Run("error after a page", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{pages: pages, pageErr: sessionExpired("group.getMembers")}
		_, err := runScript(t, "local n = 0\nfor page in okru.paginate('group.getMembers', {}) do\n n = n + 1\nend", Options{Caller: fc})
		wantError(t, err, "test.lua:2: call group.getMembers: PARAM_SESSION_EXPIRED (102)")
		if !errors.Is(err, okru.CodeParamSessionExpired) {
			t.Error("errors.Is(err, CodeParamSessionExpired) is false")
		}
	})

	t.Run("error caught with pcall", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{pages: pages, pageErr: sessionExpired("group.getMembers")}
		got := mustRun(t, `
			local n = 0
			local ok, err = pcall(function()
				for page in okru.paginate("group.getMembers", {}) do n = n + 1 end
			end)
			return {n = n, ok = ok, code = err.code}`, Options{Caller: fc})
		if want := `{"code":102,"n":3,"ok":false}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("session-bound", func(t *testing.T) {
		t.Parallel()
		fc := &fakeCaller{sessions: []string{"bot"}, pages: pages}
		got := mustRun(t, `
			local n = 0
			for page in okru.session("bot"):paginate("group.getMembers", {}) do n = n + 1 end
			return n`, Options{Caller: fc})
		if got != `3` || fc.recorded()[0].Session != "bot" {
			t.Errorf("got %s, calls %v", got, fc.recorded())
		}
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sessions []string
		src      string
		want     string
		wantErr  string
	}{
		{"list", []string{"main", "bot"}, `return okru.sessions()`, `["main","bot"]`, ""},
		{"none", nil, `return okru.sessions()`, `[]`, ""},
		{"session table", []string{"main"}, `return okru.session("main").name`, `"main"`, ""},
		{"unknown session in call", []string{"main", "bot"}, `okru.call("friends.get", {}, "nope")`, "", `test.lua:1: unknown session "nope" (known: main, bot)`},
		{"unknown session table", []string{"main"}, `okru.session("x")`, "", `unknown session "x" (known: main)`},
		{"no sessions", nil, `okru.pcall("friends.get", {}, "main")`, "", `unknown session "main" (none are configured)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCaller{sessions: tt.sessions}
			got, err := runScript(t, tt.src, Options{Caller: fc})
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestNoCaller(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`okru.call("friends.get", {})`,
		`okru.pcall("friends.get")`,
		`okru.paginate("friends.get", {})`,
	} {
		_, err := runScript(t, src, Options{})
		wantError(t, err, "friends.get: this run has no API access")
	}
	if got := mustRun(t, `return #okru.sessions()`, Options{}); got != "0" {
		t.Errorf("sessions without a Caller: %s", got)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lines []string
	logf := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, msg)
	}
	fc := &fakeCaller{errs: map[string]error{"friends.get": sessionExpired("friends.get")}}
	mustRun(t, `
		log("users:", 3, true, nil, json.null)
		print("via print", 1.5)
		log()
		log(setmetatable({}, {__tostring = function() return "custom" end}))
		local _, err = okru.pcall("friends.get", {})
		log("failed:", err)
	`, Options{Caller: fc, Log: logf})
	want := []string{
		"users: 3 true nil null",
		"via print 1.5",
		"",
		"custom",
		"failed: call friends.get: PARAM_SESSION_EXPIRED (102): Session expired",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("log lines:\n got %q\nwant %q", lines, want)
	}
	// Without Options.Log, logging is discarded, not an error.
	mustRun(t, `log("nobody listens") print("x")`, Options{})
}

func TestArgsAndInput(t *testing.T) {
	t.Parallel()
	got := mustRun(t, `
		local a, b = ...
		return {args = args, a = a, b = b, n = select("#", ...), group = input.group, ids = input.ids}`,
		Options{Args: []string{"one", "two"}, Input: decodeInput(t, `{"group": "g1", "ids": [1, 12345678901234567890]}`)})
	want := `{"a":"one","args":["one","two"],"b":"two","group":"g1","ids":[1,"12345678901234567890"],"n":2}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := mustRun(t, `return {input == nil, #args}`, Options{}); got != `[true,0]` {
		t.Errorf("without input and args: %s", got)
	}
}

func TestRequireBuiltins(t *testing.T) {
	t.Parallel()
	got := mustRun(t, `return {require("json") == json, require("okru") == okru, require("string") == string,
		require("table") == table, require("math") == math}`, Options{})
	if got != `[true,true,true,true,true]` {
		t.Errorf("got %s", got)
	}
}

// TestScriptReuse runs one compiled script concurrently, as a for_each step
// would; run with -race.
func TestScriptReuse(t *testing.T) {
	t.Parallel()
	s, err := Compile("sum.lua", []byte(`
		local total = 0
		for _, n in ipairs(input) do total = total + n end
		local info = okru.call("users.getInfo", {uids = table.concat(input, ",")})
		return {total = total, name = info.name}`))
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeCaller{answers: map[string]string{"users.getInfo": `{"name": "x"}`}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			out, err := s.Run(t.Context(), Options{Caller: fc, Input: []any{i, 1}})
			if err != nil {
				t.Error(err)
				return
			}
			want := `{"name":"x","total":` + string(rune('0'+i+1)) + `}`
			if string(out) != want {
				t.Errorf("run %d: got %s, want %s", i, out, want)
			}
		})
	}
	wg.Wait()
	if n := len(fc.recorded()); n != 8 {
		t.Errorf("got %d calls, want 8", n)
	}
	if s.Name() != "sum.lua" {
		t.Errorf("Name() = %q", s.Name())
	}
}

// TestTopicAttachment builds a topic's attachment from the results of
// okru.upload_photos and okru.upload_video as the Caller answers them,
// and posts it: the attachment is the one topic_attachment() gives in a
// workflow (both come from package media).
func TestTopicAttachment(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{answers: map[string]string{
		UploadPhotosMethod: `{"photos": [{"file": "a.png", "photo_id": "1", "token": "T1"}, {"file": "b.png", "photo_id": "2", "token": "T2"}]}`,
		UploadVideoMethod:  `{"video_id": "890000000000001", "file": "clip.mp4", "title": "Clip"}`,
		"mediatopic.post":  `"155"`,
	}}
	got := mustRun(t, `
		local up = okru.upload_photos{files = {"a.png", "b.png"}}
		local clip = okru.upload_video{video = "clip.mp4", title = "Clip"}
		local att = okru.topic_attachment{text = "Holidays", photos = up, video = {clip}}
		okru.call("mediatopic.post", {type = "USER", attachment = att})
		return {
			text = okru.topic_attachment{text = "Hello"},
			skipped = okru.topic_attachment{text = "Hello", photos = json.null, video = {}},
		}
	`, Options{Caller: fc})
	if want := `{"skipped":{"media":[{"text":"Hello","type":"text"}]},"text":{"media":[{"text":"Hello","type":"text"}]}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	calls := fc.recorded()
	att, _ := json.Marshal(calls[len(calls)-1].Params["attachment"])
	want := `{"media":[{"text":"Holidays","type":"text"},{"list":[{"id":"T1"},{"id":"T2"}],"type":"photo"},{"list":[{"id":"890000000000001"}],"type":"movie"}]}`
	if string(att) != want {
		t.Errorf("posted attachment %s, want %s", att, want)
	}

	for _, tt := range []struct{ src, want string }{
		{`okru.topic_attachment("Hello")`, "takes a table"},
		{`okru.topic_attachment{}`, "needs a text or at least one uploaded photo or video"},
		{`okru.topic_attachment{text = 5}`, "text must be a string"},
		{`okru.topic_attachment{txt = "Hello"}`, `unknown field "txt": it takes text, photos and video`},
		{`okru.topic_attachment{photos = {photos = {{photo_id = "1"}}}}`, "photos: a photo of the upload has no token"},
		{`okru.topic_attachment{video = "890000000000001"}`, "video: want the result of an upload, not a string"},
		{`okru.topic_attachment{video = {title = "x"}}`, "has photos or video_id"},
	} {
		_, err := runScript(t, "return "+tt.src, Options{Caller: fc})
		wantError(t, err, "test.lua:1: okru.topic_attachment", tt.want)
	}
}
