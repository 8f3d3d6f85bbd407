package okru_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// The examples run against the sandbox, a local emulator of ok.ru; against
// ok.ru itself, leave out WithAPIURL. They print facts rather than the
// sandbox's generated data, so that their output stays the same.

func ExampleServerSession() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()

	// Server-server: signed with md5(access_token + app secret key).
	s := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	api := okru.New(s, nil)

	var me struct {
		UID  string `json:"uid"`
		Name string `json:"name"`
	}
	if err := api.CallInto(context.Background(), "users.getCurrentUser", nil, &me); err != nil {
		log.Fatal(err)
	}
	circuit, _ := s.Circuit()
	fmt.Println("circuit:", circuit)
	fmt.Println("demo user:", me.UID == demo.UID)
	// Output:
	// circuit: server-server
	// demo user: true
}

func ExampleClientSession() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()

	// Client-server: no app secret key on the device, the session secret
	// key issued with the token signs instead.
	s := okru.ClientSession(app.Key, demo.AccessToken, demo.SessionSecretKey, okru.WithAPIURL(srv.URL))
	var uid string
	if err := okru.New(s, nil).CallInto(context.Background(), "users.getLoggedInUser", nil, &uid); err != nil {
		log.Fatal(err)
	}
	circuit, _ := s.Circuit()
	fmt.Println("circuit:", circuit)
	fmt.Println("demo user:", uid == demo.UID)
	// Output:
	// circuit: client-server
	// demo user: true
}

func ExampleTokenSession() {
	// The circuit is inferred from what is set, as aiookru does.
	server, _ := okru.TokenSession("APPKEY", "app-secret-key", "access-token", "session-secret-key")
	client, _ := okru.TokenSession("APPKEY", "", "access-token", "session-secret-key")
	_, err := okru.TokenSession("APPKEY", "app-secret-key", "", "")
	c1, _ := server.Circuit()
	c2, _ := client.Circuit()
	fmt.Println(c1)
	fmt.Println(c2)
	fmt.Println(errors.Is(err, okru.ErrNoCircuit))
	// Secrets never print.
	fmt.Println(server.Token())
	// Output:
	// server-server
	// client-server
	// true
	// okru.Token{access_token=(set) session_secret_key=(set)}
}

func ExampleAPI_Call() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), nil)

	// Any method by name; params are sent and signed by the rules of
	// Params (lists joined with commas, zero values kept).
	raw, err := api.Call(context.Background(), "users.getInfo", okru.Params{
		"uids":   []string{demo.UID},
		"fields": []string{"uid", "first_name"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("a JSON array:", raw[0] == '[')
	// Output:
	// a JSON array: true
}

func ExampleAPI_CallInto() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), nil)

	// friends.get answers a bare array of id strings.
	var friends []string
	if err := api.CallInto(context.Background(), "friends.get", nil, &friends); err != nil {
		log.Fatal(err)
	}
	fmt.Println("has friends:", len(friends) > 0)
	// Output:
	// has friends: true
}

func ExampleAPI_Pages() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)),
		&okru.Options{Rate: okru.Unlimited})

	// Every group of the demo user, two per page: Pages passes each page's
	// anchor back until has_more is false.
	groups, pages := 0, 0
	for raw, err := range api.Pages(context.Background(), "group.getUserGroupsV2", okru.Params{"count": 2}) {
		if err != nil {
			log.Fatal(err)
		}
		var page struct {
			Groups []struct {
				GroupID string `json:"groupId"`
			} `json:"groups"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			log.Fatal(err)
		}
		pages++
		groups += len(page.Groups)
	}
	fmt.Println("several pages:", pages > 1, "- about two groups each:", groups <= 2*pages)
	// Output:
	// several pages: true - about two groups each: true
}

// Errors are *okru.Error values that match their code with errors.Is.
func ExampleError() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	srv.ExpireToken(demo.AccessToken)
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), nil)

	_, err := api.Call(context.Background(), "users.getCurrentUser", nil)
	fmt.Println(errors.Is(err, okru.CodeParamSessionExpired))
	var apiErr *okru.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Class())
	}
	// Output:
	// true
	// PARAM_SESSION_EXPIRED (102) auth
}

// Options tune retries, pacing and logging; the zero value is safe.
func ExampleNew() {
	s := okru.ServerSession(os.Getenv("OKRU_APP_KEY"), os.Getenv("OKRU_APP_SECRET_KEY"), os.Getenv("OKRU_ACCESS_TOKEN"))
	api := okru.New(s, &okru.Options{
		Retry:  okru.RetryPolicy{MaxAttempts: 6, MinBackoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second},
		Rate:   5, // calls per second, lowered on throttle answers
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := api.Call(ctx, "mediatopic.post", okru.Params{"type": "USER", "attachment": map[string]any{
		"media": []map[string]string{{"type": "text", "text": "Hello from okru-run"}},
	}}, okru.OnRetry(func(ri okru.RetryInfo) { fmt.Println("retry", ri.Attempt, "in", ri.Wait) }))
	if err != nil {
		fmt.Println(err)
	}
}
