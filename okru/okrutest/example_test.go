package okrutest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// call signs friends.get for the demo user on the server-server circuit and
// posts it to fb.do with plain net/http.
func call(srv *okrutest.Server) (*http.Response, error) {
	app, demo := srv.App(), srv.DemoUser()
	params := map[string]string{"application_key": app.Key, "method": "friends.get", "format": "json"}
	params["sig"] = okru.Sign(params, okru.ServerSecret(demo.AccessToken, app.SecretKey))
	params["access_token"] = demo.AccessToken
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	return http.Post(srv.URL+"/fb.do", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func ExampleNewServer() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1, Users: 500})
	defer srv.Close()

	resp, err := call(srv)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var friends []string // friends.get answers an array of id strings
	if err := json.NewDecoder(resp.Body).Decode(&friends); err != nil {
		panic(err)
	}
	fmt.Println(resp.Header.Get("Content-Type"), len(friends) > 0)
	fmt.Println(len(srv.Calls()), "call recorded:", srv.Calls()[0].Method)
	// Output:
	// application/json;charset=utf-8 true
	// 1 call recorded: friends.get
}

func ExampleServer_InjectError() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	// The second friends.get answers SERVICE (2), a transient error a client
	// should retry.
	srv.InjectError(okrutest.ErrorRule{Method: "friends.get", Code: okru.CodeService, Nth: 2})

	for range 3 {
		resp, err := call(srv)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("Invocation-Error: %q\n", resp.Header.Get("Invocation-Error"))
	}
	// Output:
	// Invocation-Error: ""
	// Invocation-Error: "2"
	// Invocation-Error: ""
}
