package okru

import (
	"fmt"
	"net/http"
	"net/url"
)

// RedirectError is a redirect the client refused to follow. ok.ru's API,
// oauth/token.do and upload URLs answer in place; following a redirect
// would send the signed form, the token, the app secret key or the files
// to whatever address the Location names, and take that server's answer
// as ok.ru's. It names the target without its query, which may echo
// credentials.
type RedirectError struct {
	Status int    // the redirect's HTTP status, e.g. 307
	Target string // scheme://host/path of the Location
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the server answered HTTP %d, a redirect to %s, which is not followed so that no credential leaves for another address; check the API URL",
		e.Status, e.Target)
}

// originPath is scheme://host/path of u: what a message may say of an
// address whose query or fragment may hold a secret.
func originPath(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// refuseRedirects returns a copy of hc (sharing its transport and its
// connections) that follows no redirect.
func refuseRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &RedirectError{Status: status, Target: originPath(req.URL)}
	}
	return &c
}

// unfollowedRedirect returns the RedirectError of a redirect net/http
// handed back without asking CheckRedirect (a 307 or 308 whose streamed
// body cannot be sent again), or nil.
func unfollowedRedirect(resp *http.Response) *RedirectError {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc, err := resp.Location()
	if err != nil {
		return &RedirectError{Status: resp.StatusCode, Target: "(no valid Location)"}
	}
	return &RedirectError{Status: resp.StatusCode, Target: originPath(loc)}
}
