// Package openai is a loopback stand-in for the parts of OpenAI's HTTP API
// tuneline drives, built from the API reference: files (files.go) and
// fine-tuning jobs with their events (finetuning.go), and batches
// (batches.go). A test drives it with
// the official npm `openai` client (openai_test.go) so it cannot drift from
// the service; tuneline's own tests use it for the tuning flow and for fault
// injection (Fault). It listens on 127.0.0.1 only.
//
// Another API area is one more file with its routes, registered in routes.
package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tuneline/tuneline/internal/standin"
)

// Server is a running stand-in.
type Server struct {
	// URL is the base URL the SDKs take (OPENAI_BASE_URL), ending in /v1.
	URL string
	// Key is the API key the server accepts.
	Key string
	// Steps is how many training steps (metrics events) a job reports.
	Steps int
	// Engine answers the requests of batches (EchoEngine unless set);
	// BatchStep of them run at each read of an in_progress batch.
	Engine    Engine
	BatchStep int
	// ExpireAfter, when not negative, makes batches expire once that many
	// of their requests have run (a fault: the 24h window ran out).
	ExpireAfter int

	srv *httptest.Server

	mu       sync.Mutex
	seq      int
	now      int64
	files    map[string]*file
	fileIDs  []string
	jobs     map[string]*job
	jobIDs   []string
	batches  map[string]*batch
	batchIDs []string
	faults   []*fault
	standin.Recorder
}

// New starts a stand-in on a loopback port that accepts key.
func New(key string) *Server {
	s := &Server{Key: key, Steps: 4, Engine: EchoEngine, BatchStep: 2, ExpireAfter: -1, files: map[string]*file{}, jobs: map[string]*job{},
		batches: map[string]*batch{}, now: time.Now().Unix()}
	mux := http.NewServeMux()
	s.routes(mux)
	s.srv = httptest.NewServer(s.Wrap(s.middleware(mux)))
	s.URL = s.srv.URL + "/v1"
	return s
}

func (s *Server) routes(mux *http.ServeMux) {
	s.fileRoutes(mux)
	s.fineTuningRoutes(mux)
	s.batchRoutes(mux)
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// fault answers matching requests with an error a number of times.
type fault struct {
	method, path string
	status       int
	retryAfter   string
	times        int
}

// Fault makes the next times requests whose method is method ("" for any)
// and whose path starts with pathPrefix (after /v1) fail with status;
// retryAfter, when not empty, is sent as the Retry-After header.
func (s *Server) Fault(method, pathPrefix string, status, times int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, path: pathPrefix, status: status, retryAfter: retryAfter, times: times})
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := w
		if f := s.takeFault(r); f != nil {
			if f.retryAfter != "" {
				sw.Header().Set("Retry-After", f.retryAfter)
			}
			msg := "The server had an error while processing your request. Sorry about that!"
			typ := "server_error"
			if f.status == http.StatusTooManyRequests {
				msg, typ = "Rate limit reached for requests. Please try again later.", "requests"
			}
			writeError(sw, f.status, msg, typ, "", "")
			return
		}
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		switch {
		case !ok || key == "":
			writeError(sw, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", "", "")
			return
		case key != s.Key:
			writeError(sw, http.StatusUnauthorized, "Incorrect API key provided: "+redact(key)+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "invalid_api_key")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) takeFault(r *http.Request) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	for _, f := range s.faults {
		if f.times > 0 && (f.method == "" || f.method == r.Method) && strings.HasPrefix(path, f.path) {
			f.times--
			return f
		}
	}
	return nil
}

// redact shows a key as the service does: its first and last four characters.
func redact(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:3] + "*****" + key[len(key)-4:]
}

// id makes an object id with prefix, unique in this server.
func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%024d", prefix, s.seq)
}

// clock returns a creation time that rises with each call, so objects
// created one after another sort as the service sorts them.
func (s *Server) clock() int64 {
	s.now++
	return s.now
}

type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, msg, typ, param, code string) {
	e := apiError{Message: msg, Type: typ}
	if param != "" {
		e.Param = &param
	}
	if code != "" {
		e.Code = &code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// list is the API's cursor page.
type list[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	FirstID string `json:"first_id,omitempty"`
	LastID  string `json:"last_id,omitempty"`
}

// page cuts ids (in the order served) after the id in the query's `after`,
// at most `limit` (default def) long.
func page(r *http.Request, ids []string, def int) ([]string, bool, error) {
	limit := def
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, false, fmt.Errorf("invalid limit %q", v)
		}
		limit = n
	}
	if after := r.URL.Query().Get("after"); after != "" {
		for i, id := range ids {
			if id == after {
				ids = ids[i+1:]
				break
			}
		}
	}
	if len(ids) > limit {
		return ids[:limit], true, nil
	}
	return ids, false, nil
}

// writePage answers a list request with the page of ids (see page) and
// their objects in m.
func writePage[T any](w http.ResponseWriter, r *http.Request, ids []string, def int, m map[string]T) {
	ids, more, err := page(r, ids, def)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "invalid_request_error", "limit", "")
		return
	}
	out := list[T]{Object: "list", Data: []T{}, HasMore: more}
	for _, id := range ids {
		out.Data = append(out.Data, m[id])
	}
	if len(ids) > 0 {
		out.FirstID, out.LastID = ids[0], ids[len(ids)-1]
	}
	writeJSON(w, http.StatusOK, out)
}

func reversed(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}
