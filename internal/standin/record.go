// Package standin holds what the loopback stand-ins of outside services
// share (its subfolders are the stand-ins: hfhub, openai, vertex).
package standin

import (
	"fmt"
	"net/http"
	"sync"
)

// Recorder keeps the requests a handler served, for tests to check retries
// and what was sent.
type Recorder struct {
	mu   sync.Mutex
	reqs []string
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Wrap records each request next serves as "METHOD /path status".
func (rec *Recorder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			rec.mu.Lock()
			rec.reqs = append(rec.reqs, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, sw.status))
			rec.mu.Unlock()
		}()
		next.ServeHTTP(sw, r)
	})
}

// Requests lists the requests served so far.
func (rec *Recorder) Requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.reqs...)
}
