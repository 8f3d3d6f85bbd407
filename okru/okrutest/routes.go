package okrutest

import "net/http"

// route is one HTTP endpoint of the sandbox. Areas register their routes in
// init functions (the API here, the control endpoint in control.go, OAuth
// pages and uploads in their own files); the mux is built from the table in
// one place, newMux.
type route struct {
	pattern string // a net/http ServeMux pattern, e.g. "POST /fb.do"
	handler func(s *Server) http.Handler
}

var routeTable []route

// registerRoute adds an endpoint; ServeMux panics on conflicting patterns
// when the first server is built.
func registerRoute(pattern string, handler func(s *Server) http.Handler) {
	routeTable = append(routeTable, route{pattern: pattern, handler: handler})
}

func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range routeTable {
		mux.Handle(r.pattern, r.handler(s))
	}
	return mux
}

func init() {
	fbDo := func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "") })
	}
	byPath := func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.serveAPI(w, r, r.PathValue("group")+"."+r.PathValue("method"))
		})
	}
	// GET also serves HEAD. ok.ru takes both verbs; clients should prefer
	// POST so that tokens stay out of URLs.
	registerRoute("GET /fb.do", fbDo)
	registerRoute("POST /fb.do", fbDo)
	registerRoute("GET /api/{group}/{method}", byPath)
	registerRoute("POST /api/{group}/{method}", byPath)
}
