// Package okru is a client for the ok.ru (Odnoklassniki) REST API.
//
// It is a port of the Python library aiookru with the same sessions
// (TokenSession, ServerSession, ClientSession and the implicit OAuth login
// variants) and request signing, plus what a Go program needs on top:
// contexts on every call, typed errors, retries with backoff, pacing, paging
// and uploads.
//
// A Session holds credentials and knows how to sign; an API sends calls for
// one session:
//
//	s := okru.ServerSession(appKey, appSecretKey, accessToken)
//	api := okru.New(s, nil)
//	friends, err := api.Call(ctx, "friends.get", nil)
//
// Tokens come from a browser-like login through ok.ru's OAuth pages
// (ImplicitSession, ImplicitServerSession, ImplicitClientSession,
// ImplicitLogin), from the code and refresh grants (ExchangeCode,
// RefreshToken; sessions with a refresh token renew themselves) or from the
// old auth.login (PasswordLogin). UploadPhotos streams photos to ok.ru's
// upload URLs, and CallBatch sends many calls through batch.executeV2.
//
// Any method name can be called; the embedded Catalog describes the methods
// known to this package and the generated group wrappers (api.Friends().Get)
// make them discoverable.
//
// The package knows nothing of HCL, Lua or the okru-run engine. The sandbox
// emulator used by the tests lives in the okrutest sub-package.
package okru

//go:generate go run ./internal/gen -data data -out .
