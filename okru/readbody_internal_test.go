package okru

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An answer streamed without a Content-Length and larger than maxBody is a
// *DecodeError, read no further than the limit.
func TestReadBodyLimit(t *testing.T) {
	old := maxBody
	maxBody = 1 << 10
	t.Cleanup(func() { maxBody = old })
	for _, withLength := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := `"` + strings.Repeat("x", 510) + `",`
			if withLength {
				w.Header().Set("Content-Length", "4096")
				w.Write([]byte(strings.Repeat(" ", 4096)))
				return
			}
			w.Write([]byte("["))
			for range 8 {
				w.Write([]byte(chunk))
				w.(http.Flusher).Flush()
			}
			w.Write([]byte(`""]`))
		}))
		a := New(ServerSession("key", "secret", "token", WithAPIURL(srv.URL)), &Options{Rate: Unlimited})
		_, err := a.Call(context.Background(), "users.getCurrentUser", nil)
		srv.Close()
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "larger than 1024 bytes") {
			t.Errorf("withLength=%v: err = %v, want a *DecodeError about the size", withLength, err)
		}
	}
}
