package okru_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

func ExampleImplicitSession() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()

	// Against ok.ru, leave out ConnectURL and APIURL.
	s, err := okru.ImplicitSession(context.Background(), okru.ImplicitConfig{
		AppID: app.ID, AppKey: app.Key, Login: demo.Login, Password: demo.Password,
		Permissions: []string{okru.ScopeValuableAccess},
		ConnectURL:  srv.URL, APIURL: srv.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	circuit, _ := s.Circuit()
	fmt.Println("circuit:", circuit)
	fmt.Println("permissions:", s.Token().Permissions)

	// A wrong password is told apart from other failures.
	_, err = okru.ImplicitLogin(context.Background(), okru.ImplicitConfig{
		AppID: app.ID, Login: demo.Login, Password: "not the password", ConnectURL: srv.URL,
	})
	var le *okru.LoginError
	fmt.Println(errors.Is(err, okru.ErrWrongCredentials), errors.As(err, &le) && le.Step == okru.StepLoginForm)
	// Output:
	// circuit: client-server
	// permissions: [VALUABLE_ACCESS]
	// true true
}

func ExampleExchangeCode() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	ctx := context.Background()
	cfg := okru.OAuthConfig{AppID: app.ID, AppKey: app.Key, AppSecretKey: app.SecretKey,
		RedirectURI: srv.URL + "/blank.html", Scopes: []string{okru.ScopeValuableAccess},
		ConnectURL: srv.URL, APIURL: srv.URL}

	// A web app sends the user's browser to okru.AuthorizeURL(cfg,
	// okru.ResponseTypeCode, state) and gets the code at its redirect URI;
	// AuthorizeCode plays the browser here.
	code, err := okru.AuthorizeCode(ctx, okru.ImplicitConfig{AppID: app.ID, Login: demo.Login, Password: demo.Password,
		Permissions: cfg.Scopes, RedirectURI: cfg.RedirectURI, ConnectURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := okru.ExchangeCode(ctx, cfg, code)
	if err != nil {
		log.Fatal(err)
	}
	// The session renews its token by itself when it expires, and hands
	// the new one to save.
	s := okru.ServerSession(app.Key, app.SecretKey, tok.AccessToken, okru.WithAPIURL(srv.URL),
		okru.WithAppID(app.ID), okru.WithRefreshToken(tok.RefreshToken, func(t okru.Token) { /* store t */ }))
	fmt.Println("refresh token:", tok.RefreshToken != "", "self-refreshing:", s.CanRefresh())
	// Output:
	// refresh token: true self-refreshing: true
}

func ExampleAPI_UploadPhotos() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ClientSession(app.Key, demo.AccessToken, demo.SessionSecretKey, okru.WithAPIURL(srv.URL)), nil)
	ctx := context.Background()

	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)))
	tokens, err := api.UploadPhotos(ctx, okru.UploadPhotosRequest{Files: []okru.UploadFile{
		{Name: "a.png", Reader: bytes.NewReader(img.Bytes())},
		{Name: "b.png", Reader: bytes.NewReader(img.Bytes())},
	}})
	if err != nil {
		log.Fatal(err)
	}
	att := map[string]any{"media": []any{
		map[string]any{"type": "text", "text": "Two photos"},
		okru.PhotoAttachment(tokens),
	}}
	if _, err := api.Call(ctx, "mediatopic.post", okru.Params{"type": "USER", "attachment": att}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded:", len(tokens))
	// Output:
	// uploaded: 2
}

func ExampleAPI_CallBatch() {
	srv := okrutest.NewServer(okrutest.Config{Seed: 1})
	defer srv.Close()
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), nil)

	results, err := api.CallBatch(context.Background(), []okru.BatchCall{
		{Method: "users.isAppUser", Params: okru.Params{"uid": demo.UID}},
		{Method: "users.getInfo", Params: okru.Params{"uids": demo.UID}}, // fields is missing
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			fmt.Println("error:", errors.Is(r.Err, okru.CodeParam))
			continue
		}
		fmt.Println("result:", string(r.Result))
	}
	// Output:
	// result: true
	// error: true
}
