// Package okrutest is the sandbox: a local emulator of the ok.ru REST API,
// served over real HTTP on loopback, in the spirit of net/http/httptest.
//
// Tests start one with NewServer and point a client at its URL; the
// okru-run sandbox command serves the same thing as a process. The server
// checks what ok.ru checks (application key, the signature of all three
// circuits, token validity and expiry, the session rule and permissions of
// the method catalog, required parameters) and answers with ok.ru's error
// envelope, so a client that passes against the sandbox is strict enough for
// ok.ru itself. Per-method rules are the catalog's (okru.LookupMethod), no
// more and no less; the sandbox's application is an external one. Every
// emulated behaviour, its source and its test are listed in CONFORMANCE.md.
//
// It also serves what a client needs to get and use a session: ok.ru's OAuth
// pages (authorize, the login and permissions forms, with cookies, so a
// browser-like login works against it), oauth/token.do with the code and
// refresh grants, the unsigned auth.login, photo upload URLs, and
// batch.executeV2 (oauth.go, photos.go, batch.go).
//
// Answers are computed from a seeded, deterministic social graph (users,
// symmetric friendships, groups with members, albums, topics) whose size is a
// parameter, plus the state that calls create (posted topics). Methods of the
// catalog that are not emulated answer METHOD (3) saying so; the sandbox
// never invents data for them. Every call is recorded (without secrets) for
// tests to assert on, and faults can be injected: latency, error codes on the
// n-th call or at a rate, per-token flood limits and token expiry. All of it
// is reachable from Go and over HTTP under /__sandbox/.
//
// It is not a mock with canned answers, nor a performance model of ok.ru:
// latency and limits exist only when a test asks for them.
//
// Extending it: API methods are registered from per-area files with
// registerMethod (see methods.go) and HTTP routes with registerRoute (see
// routes.go); both tables are read once when a server is built.
package okrutest
