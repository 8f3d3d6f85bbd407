package okru_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// collector is the other origin an attacker's redirect points at: it
// records whatever reaches it.
type collector struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.String()+" "+string(body)+" "+r.Header.Get("Cookie"))
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		fmt.Fprint(w, `{"uid":"evil","access_token":"evil","photos":{}}`)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// redirector answers every request with status to target + path (with a
// query echoing what it received), except photosV2.getUploadUrl, which
// answers an upload URL on itself.
func redirector(t *testing.T, status int, target string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("method") == "photosV2.getUploadUrl" {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			fmt.Fprintf(w, `{"upload_url":%q,"photo_ids":["p1"]}`, srv.URL+"/upload?ticket=TICKET-0123456789")
			return
		}
		w.Header().Set("Location", target+"/steal?"+r.Form.Encode())
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoRedirectFromAPI: a redirect from the API URL, token.do or an
// upload URL to another origin is not followed: the other server gets
// nothing, and the error names the target without a secret.
func TestNoRedirectFromAPI(t *testing.T) {
	t.Parallel()
	const (
		appSecret = "APPSECRET-0123456789"
		token     = "ACCESSTOKEN-0123456789"
		code      = "CODE-0123456789"
		refresh   = "REFRESH-0123456789"
	)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			evil := newCollector(t)
			api := redirector(t, status, evil.URL)
			s := okru.ServerSession("APPKEY", appSecret, token, okru.WithAPIURL(api.URL))
			a := okru.New(s, &okru.Options{Rate: okru.Unlimited})
			cfg := okru.OAuthConfig{AppID: "1", AppKey: "APPKEY", AppSecretKey: appSecret, APIURL: api.URL}
			attempts := map[string]func() error{
				"call": func() error { _, err := a.Call(t.Context(), "users.getCurrentUser", nil); return err },
				"GET call": func() error {
					g := okru.New(s, &okru.Options{Rate: okru.Unlimited, UseGET: true})
					_, err := g.Call(t.Context(), "friends.get", nil)
					return err
				},
				"code grant":    func() error { _, err := okru.ExchangeCode(t.Context(), cfg, code); return err },
				"refresh grant": func() error { _, err := okru.RefreshToken(t.Context(), cfg, refresh); return err },
				"upload": func() error {
					_, err := a.UploadPhotos(t.Context(), okru.UploadPhotosRequest{Files: []okru.UploadFile{{Name: "a.jpg", Reader: strings.NewReader("JPEG")}}})
					return err
				},
			}
			for name, attempt := range attempts {
				err := attempt()
				var re *okru.RedirectError
				if !errors.As(err, &re) || re.Status != status || re.Target != evil.URL+"/steal" || !strings.Contains(err.Error(), evil.URL+"/steal") {
					t.Errorf("%s: err = %v, want a RedirectError naming %s/steal", name, err, evil.URL)
					continue
				}
				for _, secret := range []string{appSecret, token, code, refresh, "TICKET-0123456789", "sig="} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: the error shows %q: %v", name, secret, err)
					}
				}
			}
			if got := evil.requests(); len(got) != 0 {
				t.Errorf("the other origin received %d requests: %q", len(got), got)
			}
		})
	}
}
