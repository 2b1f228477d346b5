// Package vertex is a loopback stand-in for the parts of Google Cloud that
// `tuneline tune vertex` uses: an OAuth 2.0 token endpoint that takes the
// JWT a service-account key signs (token.go), so Application Default
// Credentials run as they do against Google, and Vertex AI's v1 tuningJobs
// (tuningjobs.go). Requests and responses are the google-api-go-client's
// own types (google.golang.org/api/aiplatform/v1), so the stand-in cannot
// drift from the API the Go client speaks. It listens on 127.0.0.1 only.
package vertex

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	aiplatform "google.golang.org/api/aiplatform/v1"

	"github.com/tuneline/tuneline/internal/standin"
)

// Server is a running stand-in.
type Server struct {
	// URL is the service endpoint (--endpoint) and the token endpoint's
	// host.
	URL string
	// Read, when set, reads a gs:// object for the job's validation;
	// without it a dataset URI is only checked for its form.
	Read func(uri string) ([]byte, error)
	// Steps is how many polls a job runs before it succeeds.
	Steps int

	srv *httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	seq      int
	tokens   map[string]string // access token -> client_email
	jobs     map[string]*tuningJob
	jobNames []string
	faults   []*fault
	standin.Recorder
}

// New starts a stand-in on a loopback port.
func New() *Server {
	s := &Server{Steps: 3, tokens: map[string]string{}, jobs: map[string]*tuningJob{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.Handle("/v1/", s.authorized(http.HandlerFunc(s.tuningJobs)))
	s.srv = httptest.NewServer(s.Wrap(s.faulty(mux)))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

type fault struct {
	path   string
	status int
	times  int
}

// Fault makes the next times requests whose path contains part fail with
// status.
func (s *Server) Fault(part string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{path: part, status: status, times: times})
}

// faulty answers with the faults set before passing a request on.
func (s *Server) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := w
		s.mu.Lock()
		var hit *fault
		for _, f := range s.faults {
			if f.times > 0 && strings.Contains(r.URL.Path, f.path) {
				f.times--
				hit = f
				break
			}
		}
		s.mu.Unlock()
		if hit != nil {
			writeStatus(sw, hit.status, "The service is currently unavailable.")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// authorized lets through requests that carry an access token the token
// endpoint issued.
func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		_, known := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !known {
			writeStatus(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonical status names of HTTP codes, as Google APIs send them.
var statusNames = map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

// writeStatus writes a Google API error body: {"error": {code, message, status}}.
func writeStatus(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": statusNames[code]}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// rpcStatus is google.rpc.Status as a tuning job's error.
func rpcStatus(code int64, msg string) *aiplatform.GoogleRpcStatus {
	return &aiplatform.GoogleRpcStatus{Code: code, Message: msg}
}
