package okrutest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// Scopes ok.ru grants to access tokens: okru.Scopes, the one list the
// client checks logins against. The demo user's token has all of them;
// IssueToken grants exactly the ones asked for.
var Scopes = okru.Scopes()

// longAccessScope makes a token's lifetime slide forward with each use, as
// ok.ru's LONG_ACCESS_TOKEN does.
const longAccessScope = "LONG_ACCESS_TOKEN"

// Token is a user session issued by the sandbox: the access token and the
// session secret key of the client-server circuit. Its String and Format
// methods hide the secrets.
type Token struct {
	AccessToken      string
	SessionSecretKey string
	UID              string
	Scopes           []string
	ExpiresAt        time.Time // zero when the token does not expire by itself
}

// String describes the token without its secrets.
func (t Token) String() string {
	exp := "never"
	if !t.ExpiresAt.IsZero() {
		exp = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("okrutest.Token{uid=%s scopes=%v expires=%s access_token=[hidden] session_secret_key=[hidden]}",
		t.UID, t.Scopes, exp)
}

// Format makes every verb print String, so %#v cannot show the secrets.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// session is the server's record of one issued token.
type session struct {
	user      int32
	secret    string // session_secret_key
	scopes    map[string]bool
	long      bool
	ttl       time.Duration
	expiresAt atomic.Int64 // unix nanoseconds; 0 means no expiry
	revoked   atomic.Bool  // expired on purpose (ExpireToken)
}

func (s *session) expired(now time.Time) bool {
	if s.revoked.Load() {
		return true
	}
	exp := s.expiresAt.Load()
	return exp != 0 && now.UnixNano() >= exp
}

// touch moves the expiry to now+ttl, for tokens whose lifetime slides.
func (s *session) touch(now time.Time) {
	if s.ttl > 0 {
		s.expiresAt.Store(now.Add(s.ttl).UnixNano())
	}
}

// tokenStore holds the issued tokens. Lookups take a read lock only; expiry
// is atomic so that sliding it does not need the write lock.
type tokenStore struct {
	mu       sync.RWMutex
	sessions map[string]*session // by access token
}

func (ts *tokenStore) issue(user int32, scopes []string, ttl time.Duration, now time.Time) (string, *session) {
	s := &session{user: user, secret: randomHex(16), scopes: make(map[string]bool, len(scopes)), ttl: ttl}
	for _, sc := range scopes {
		s.scopes[sc] = true
	}
	s.long = s.scopes[longAccessScope]
	s.touch(now)
	access := "-s-" + randomToken(40)
	ts.mu.Lock()
	if ts.sessions == nil {
		ts.sessions = make(map[string]*session)
	}
	ts.sessions[access] = s
	ts.mu.Unlock()
	return access, s
}

func (ts *tokenStore) lookup(access string) *session {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.sessions[access]
}

// revoke marks the token expired; it reports whether the token exists.
func (ts *tokenStore) revoke(access string) bool {
	s := ts.lookup(access)
	if s == nil {
		return false
	}
	s.revoked.Store(true)
	return true
}

// unrevoke clears every expiry set by revoke (Reset undoes injected faults).
func (ts *tokenStore) unrevoke() {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for _, s := range ts.sessions {
		s.revoked.Store(false)
	}
}

func (s *session) grantedScopes() []string {
	out := make([]string, 0, len(s.scopes))
	for sc := range s.scopes {
		out = append(out, sc)
	}
	slices.Sort(out)
	return out
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomToken returns n characters from crypto/rand: sandbox secrets are fake
// but must not be guessable, since a sandbox may listen beyond loopback.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}

func randomHex(nbytes int) string {
	return fmt.Sprintf("%x", randomBytes(nbytes))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
