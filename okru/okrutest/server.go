package okrutest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultUsers is the graph size when Config.Users is zero.
const DefaultUsers = 200

// MinUsers is the smallest graph: the demo user needs friends and groups.
const MinUsers = 10

// Defaults of Config's limits. ok.ru publishes no body limit; 1 MB is far
// above any form a method takes (a topic's text and attachments included).
const (
	DefaultMaxCallBytes = 64 << 20
	DefaultMaxBodyBytes = 1 << 20
)

// Timeouts of the HTTP server, so that slow or idle clients cannot hold
// connections for ever. The write timeout leaves room for injected latency
// and large upload answers.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// Config configures a sandbox. The zero value is a useful default: seed 0,
// DefaultUsers users, tokens that never expire, no faults, a random
// loopback port.
type Config struct {
	// Addr is the listen address; "" means 127.0.0.1:0, a random port.
	Addr string
	// Seed makes the graph: the same seed and size give the same users,
	// friendships, groups, albums and topics.
	Seed uint64
	// Users is the number of users in the graph, at least MinUsers; zero
	// means DefaultUsers. Groups (Users/25, at least 4), albums and topics
	// scale with it.
	Users int
	// TokenTTL is the lifetime of issued tokens; zero means they expire only
	// through ExpireToken. Tokens with LONG_ACCESS_TOKEN, and any token
	// that calls auth.touchSession, get TTL more from each use.
	TokenTTL time.Duration
	// Faults are injected from the start (see SetFaults).
	Faults Faults
	// MaxCalls bounds the call log, dropping the oldest calls; zero keeps
	// every call (tests), a long-running process should set it.
	MaxCalls int
	// MaxCallBytes bounds the call log by size (methods and parameters of
	// the kept calls), dropping the oldest calls, so that large requests
	// cannot grow the server without end; zero means DefaultMaxCallBytes.
	MaxCallBytes int64
	// MaxBodyBytes bounds a request body, photo uploads excepted (they
	// have their own limit); zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the clock for token expiry, flood buckets and call times; nil
	// means time.Now. Tests move it to expire tokens without sleeping.
	Now func() time.Time
	// Logger receives one debug line per call and notes on start and stop;
	// nil discards them.
	Logger *slog.Logger
}

// Validate reports what is wrong with the configuration, so that a command
// can tell a bad flag (exit 2) from a failure to serve.
func (c Config) Validate() error {
	var errs []error
	if c.Users != 0 && c.Users < MinUsers {
		errs = append(errs, fmt.Errorf("users must be at least %d, got %d", MinUsers, c.Users))
	}
	if c.TokenTTL < 0 {
		errs = append(errs, errors.New("token TTL must not be negative"))
	}
	if c.MaxCalls < 0 {
		errs = append(errs, errors.New("max calls must not be negative"))
	}
	if c.MaxCallBytes < 0 || c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("byte limits must not be negative"))
	}
	if err := c.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// App is the one application the sandbox knows: its id, public key and
// secret key. String hides the secret key.
type App struct {
	ID        string
	Key       string
	SecretKey string
}

// String describes the app without its secret key.
func (a App) String() string {
	return fmt.Sprintf("okrutest.App{id=%s key=%s secret_key=[hidden]}", a.ID, a.Key)
}

// Format makes every verb print String.
func (a App) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// User is a user of the graph. Every user has a login and a password for the
// sandbox's login pages; DemoUser also carries a ready token. String hides
// the password and the token.
type User struct {
	UID              string
	Login            string
	Password         string
	FirstName        string
	LastName         string
	Name             string
	AccessToken      string // DemoUser only
	SessionSecretKey string // DemoUser only
}

// String describes the user without secrets.
func (u User) String() string {
	return fmt.Sprintf("okrutest.User{uid=%s login=%s name=%q password=[hidden] access_token=[hidden]}", u.UID, u.Login, u.Name)
}

// Format makes every verb print String.
func (u User) Format(f fmt.State, _ rune) { fmt.Fprint(f, u.String()) }

// Server is a running sandbox. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT", without a trailing
	// slash. A client's API URL and connect URL are both URL + "/".
	URL string

	cfg       Config
	now       func() time.Time
	logger    *slog.Logger
	graph     *graph
	app       App
	pwSalt    string // makes the users' passwords, per server
	demo      Token
	tokens    tokenStore
	faults    *faultState
	calls     callLog
	topics    topicStore
	oauth     oauthState // browser sessions, grants, codes, refresh tokens
	photos    photoStore // upload URLs and uploaded photos
	videos    videoStore // uploaded videos
	handler   http.Handler
	hs        *http.Server
	serveErr  chan error
	closeOnce sync.Once
}

// NewServer starts a sandbox on cfg.Addr (by default a random loopback
// port) and panics if it cannot, like httptest.NewServer: it is meant for
// tests. Programs use Start. Close the server when done.
func NewServer(cfg Config) *Server {
	s, err := Start(cfg)
	if err != nil {
		panic("okrutest: " + err.Error())
	}
	return s
}

// Start builds the graph and serves the sandbox on cfg.Addr until Close or
// Shutdown. It is what okru-run sandbox and run --sandbox call.
func Start(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w (choose another -addr or port 0)", addr, err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.hs = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.hs.Serve(ln) }()
	s.logger.Info("sandbox listening", "url", s.URL, "users", len(s.graph.users), "groups", len(s.graph.groups), "seed", cfg.Seed)
	return s, nil
}

// newServer builds everything but the listener.
func newServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox config: %w", err)
	}
	if cfg.Users == 0 {
		cfg.Users = DefaultUsers
	}
	s := &Server{cfg: cfg, now: cfg.Now, logger: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.graph = buildGraph(cfg.Seed, cfg.Users)
	s.app = newApp(cfg.Seed)
	s.pwSalt = randomHex(16)
	s.faults = newFaultState(cfg.Seed)
	s.faults.set(cfg.Faults)
	if cfg.MaxCallBytes == 0 {
		cfg.MaxCallBytes = DefaultMaxCallBytes
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s.cfg = cfg
	s.calls.limit, s.calls.maxBytes = cfg.MaxCalls, cfg.MaxCallBytes
	s.demo = s.issue(demoIndex, Scopes)
	s.handler = s.limitBodies(s.newMux())
	return s, nil
}

// limitBodies caps every request body at Config.MaxBodyBytes, uploads
// excepted (they have their own caps): a body announced larger is refused before it is read (413),
// and one that grows past the cap fails the handler's read.
func (s *Server) limitBodies(next http.Handler) http.Handler {
	limit := s.cfg.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != uploadPath && r.URL.Path != videoPath {
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
				http.Error(w, fmt.Sprintf("request body larger than %d bytes", limit), http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// newApp makes the application's public id and key from the seed, so that
// they are stable for a seed, and its secret key at random.
func newApp(seed uint64) App {
	rnd := rand.New(rand.NewPCG(seed, 0xa99))
	key := make([]byte, 17)
	for i := range key {
		key[i] = byte('A' + rnd.IntN(26))
	}
	return App{
		ID:        strconv.FormatUint(1_200_000_000+rnd.Uint64N(100_000_000), 10),
		Key:       string(key),
		SecretKey: fmt.Sprintf("%X", randomBytes(12)),
	}
}

// Handler returns the sandbox's HTTP handler, to mount it elsewhere (for
// example under httptest.NewServer). It shares the server's graph, state
// and call log.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server at once, closing open connections.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.hs != nil {
			s.hs.Close()
			<-s.serveErr
		}
	})
}

// Shutdown stops accepting calls and waits for the ones in flight, or for
// ctx to end; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		if s.hs == nil {
			return
		}
		err = s.hs.Shutdown(ctx)
		if err != nil {
			s.hs.Close()
		}
		<-s.serveErr
		s.logger.Info("sandbox stopped", "calls", s.calls.len())
	})
	return err
}

// App returns the application's credentials.
func (s *Server) App() App { return s.app }

// DemoUser returns the demo user with a token granted every scope in Scopes.
func (s *Server) DemoUser() User {
	u := s.user(demoIndex)
	u.AccessToken, u.SessionSecretKey = s.demo.AccessToken, s.demo.SessionSecretKey
	return u
}

// LookupUser returns the user with uid, without a token.
func (s *Server) LookupUser(uid string) (User, bool) {
	i, ok := s.graph.lookupUser(uid)
	if !ok {
		return User{}, false
	}
	return s.user(i), true
}

func (s *Server) user(i int32) User {
	u := &s.graph.users[i]
	login := "user" + strconv.Itoa(int(i)) + "@sandbox.ok"
	if i == demoIndex {
		login = "demo@sandbox.ok"
	}
	sum := md5.Sum([]byte(s.pwSalt + u.uid))
	return User{
		UID: u.uid, Login: login, Password: hex.EncodeToString(sum[:6]),
		FirstName: u.first, LastName: u.last, Name: u.name(),
	}
}

// IssueToken issues a token for the user uid granting exactly scopes; it
// expires after Config.TokenTTL, if set. Tests use it for tokens that lack a
// scope or belong to another user. It panics if uid is not in the graph.
func (s *Server) IssueToken(uid string, scopes ...string) Token {
	i, ok := s.graph.lookupUser(uid)
	if !ok {
		panic("okrutest: IssueToken: no user " + uid + " in the graph")
	}
	return s.issue(i, scopes)
}

func (s *Server) issue(user int32, scopes []string) Token {
	access, sess := s.tokens.issue(user, scopes, s.cfg.TokenTTL, s.now())
	t := Token{AccessToken: access, SessionSecretKey: sess.secret, UID: s.graph.users[user].uid, Scopes: sess.grantedScopes()}
	if exp := sess.expiresAt.Load(); exp != 0 {
		t.ExpiresAt = time.Unix(0, exp)
	}
	return t
}

// ExpireToken makes the token answer PARAM_SESSION_EXPIRED (102) from now
// on, until Reset. It reports whether the token exists.
func (s *Server) ExpireToken(accessToken string) bool { return s.tokens.revoke(accessToken) }

// Calls returns every API call received since the start or the last Reset,
// in order, without secrets.
func (s *Server) Calls() []Call { return s.calls.list() }

// Reset clears the call log, the faults (back to Config.Faults), the
// expiries made by ExpireToken and every state created by calls (posted
// topics, uploaded photos). The graph, the app, the issued tokens and the
// OAuth grants stay.
func (s *Server) Reset() {
	s.calls.reset()
	s.faults.set(s.cfg.Faults)
	s.tokens.unrevoke()
	s.topics.reset()
	s.photos.reset()
	s.videos.reset()
}

// SetFaults replaces every injected fault. It panics if f is invalid (see
// Faults.Validate), which is a mistake in the test.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("okrutest: SetFaults: " + err.Error())
	}
	s.faults.set(f)
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return s.faults.get() }

// InjectError adds an error rule to the faults in force. It panics if the
// rule is invalid (see ErrorRule.Validate).
func (s *Server) InjectError(r ErrorRule) {
	if err := r.Validate(); err != nil {
		panic("okrutest: InjectError: " + err.Error())
	}
	s.faults.addRule(r)
}

// SetLatency delays every API call by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.latency.Store(int64(max(d, 0))) }

// SetFloodLimit limits each token to perSecond calls per second with bursts
// of burst calls; beyond it calls answer FLOOD_BLOCKED (8). Zero perSecond
// lifts the limit.
func (s *Server) SetFloodLimit(perSecond float64, burst int) {
	s.faults.setFlood(max(perSecond, 0), max(burst, 0))
}
