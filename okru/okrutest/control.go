package okrutest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The control endpoint lets tests and scripts that run the sandbox as a
// process do what Go tests do with Server's methods:
//
//	GET  /__sandbox/calls   the call log, a JSON array of Call, oldest first
//	GET  /__sandbox/videos  the uploaded videos, a JSON array of UploadedVideo
//	POST /__sandbox/reset   Reset
//	GET  /__sandbox/faults  the faults in force
//	POST /__sandbox/faults  replace the faults with the JSON body (Faults, with
//	                        latency as a duration string), and expire the
//	                        tokens listed in "expire_tokens"
//
// It shows no secret: calls are recorded without them, and faults hold none.
func init() {
	registerRoute("GET /__sandbox/calls", func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls := s.Calls()
			if calls == nil {
				calls = []Call{}
			}
			writeJSON(w, http.StatusOK, calls)
		})
	})
	registerRoute("POST /__sandbox/reset", func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			s.Reset()
			w.WriteHeader(http.StatusNoContent)
		})
	})
	registerRoute("GET /__sandbox/faults", func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, s.Faults())
		})
	})
	registerRoute("POST /__sandbox/faults", func(s *Server) http.Handler {
		return http.HandlerFunc(s.postFaults)
	})
}

// faultsRequest is the body of POST /__sandbox/faults.
type faultsRequest struct {
	Faults
	ExpireTokens []string `json:"expire_tokens,omitempty"`
}

// UnmarshalJSON reads the embedded Faults (which has its own decoder for
// latency) and expire_tokens, rejecting unknown keys so that a typo in a
// fault does not silently inject nothing.
func (r *faultsRequest) UnmarshalJSON(b []byte) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	known := map[string]bool{"latency": true, "errors": true, "flood_limit": true, "flood_burst": true, "login_captcha": true, "expire_tokens": true}
	for k := range keys {
		if !known[k] {
			return fmt.Errorf("unknown key %q; want latency, errors, flood_limit, flood_burst, login_captcha or expire_tokens", k)
		}
	}
	if err := json.Unmarshal(b, &r.Faults); err != nil {
		return err
	}
	if raw, ok := keys["expire_tokens"]; ok {
		return json.Unmarshal(raw, &r.ExpireTokens)
	}
	return nil
}

func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	var req faultsRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeControlError(w, http.StatusBadRequest, "read faults: "+err.Error())
		return
	}
	if err := req.Faults.Validate(); err != nil {
		writeControlError(w, http.StatusBadRequest, "invalid faults: "+err.Error())
		return
	}
	for i, t := range req.ExpireTokens {
		if s.tokens.lookup(t) == nil {
			// Never echo the token itself.
			writeControlError(w, http.StatusBadRequest, fmt.Sprintf("expire_tokens[%d] is not a token of this sandbox; nothing was changed", i))
			return
		}
	}
	s.faults.set(req.Faults)
	for _, t := range req.ExpireTokens {
		s.tokens.revoke(t)
	}
	s.logger.Info("faults set", "latency", req.Latency, "error_rules", len(req.Errors), "flood_limit", req.FloodLimit, "expired_tokens", len(req.ExpireTokens))
	writeJSON(w, http.StatusOK, s.Faults())
}

func writeControlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
