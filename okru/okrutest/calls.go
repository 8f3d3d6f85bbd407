package okrutest

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// Call is one API request the sandbox received, as tests see it. It holds no
// secret: the token, the signature and every other secret parameter are
// dropped from Params.
type Call struct {
	Method  string            `json:"method"`
	Params  map[string]string `json:"params"` // as sent, without secrets and without "method"
	Time    time.Time         `json:"time"`   // when the request arrived
	Code    okru.Code         `json:"code"`   // 0 for a result, else the error code answered
	UID     string            `json:"uid,omitempty"`
	Circuit string            `json:"circuit,omitempty"` // "server-server", "client-server", "no-session" or "unsigned" (auth.login) once checked
	// Abandoned is set when the client went away before the answer (for
	// example during injected latency); Code is then 0 and nothing was sent.
	Abandoned bool `json:"abandoned,omitempty"`
}

// publicParams copies params without the secret ones (okru.IsSensitiveParam:
// the token, the signature, and what the OAuth and login endpoints receive)
// and without method, which Call.Method already holds.
func publicParams(params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		if !okru.IsSensitiveParam(k) && k != "method" {
			out[k] = v
		}
	}
	return out
}

// callLog is the ordered record of calls. Appends take a short mutex; the
// log keeps at most limit calls (0 means all), dropping the oldest.
type callLog struct {
	mu    sync.Mutex
	calls []Call
	limit int
}

func (l *callLog) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
	// Trim in chunks so that a full log does not copy on every call.
	if l.limit > 0 && len(l.calls) > l.limit+l.limit/4 {
		l.calls = slices.Delete(l.calls, 0, len(l.calls)-l.limit)
	}
}

func (l *callLog) list() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.calls)
	for i := range out {
		out[i].Params = maps.Clone(out[i].Params)
	}
	return out
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

func (l *callLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}
