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
// log keeps at most limit calls (0 means all) and about maxBytes bytes of
// methods and parameters (0 means no bound), dropping the oldest.
type callLog struct {
	mu       sync.Mutex
	calls    []Call
	sizes    []int64 // callSize of each call, aligned with calls
	bytes    int64   // their sum
	limit    int
	maxBytes int64
}

// callSize is about what a call holds in memory: its strings and a
// fixed overhead per call and per parameter.
func callSize(c Call) int64 {
	n := int64(128 + len(c.Method) + len(c.UID) + len(c.Circuit))
	for k, v := range c.Params {
		n += int64(32 + len(k) + len(v))
	}
	return n
}

func (l *callLog) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	size := callSize(c)
	l.calls = append(l.calls, c)
	l.sizes = append(l.sizes, size)
	l.bytes += size
	// Trim in chunks so that a full log does not copy on every call.
	drop := 0
	if l.limit > 0 && len(l.calls) > l.limit+l.limit/4 {
		drop = len(l.calls) - l.limit
	}
	if l.maxBytes > 0 && l.bytes > l.maxBytes {
		// Down to three quarters, keeping at least the newest call.
		left := l.bytes
		for _, sz := range l.sizes[:drop] {
			left -= sz
		}
		for drop < len(l.calls)-1 && left > l.maxBytes-l.maxBytes/4 {
			left -= l.sizes[drop]
			drop++
		}
	}
	if drop > 0 {
		for _, sz := range l.sizes[:drop] {
			l.bytes -= sz
		}
		l.calls = slices.Delete(l.calls, 0, drop)
		l.sizes = slices.Delete(l.sizes, 0, drop)
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
	l.calls, l.sizes, l.bytes = nil, nil, 0
}

func (l *callLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}
