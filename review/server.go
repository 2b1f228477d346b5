package review

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/tokens"
)

//go:embed assets
var assets embed.FS

// Options say what a review server shows and where decisions go.
type Options struct {
	// Examples is the JSON Lines file reviewed.
	Examples string
	// Chunks, when set, is the chunks file the examples came from: the
	// page shows each example's source passage.
	Chunks string
	// Decisions is the decisions file (default PathFor(Examples)).
	Decisions string
	// Flags are the export settings examples are flagged with.
	Flags FlagOptions
}

// Server serves the review page and its API. Every request must carry the
// token (the t query parameter or the X-Tuneline-Token header).
type Server struct {
	opt   Options
	token string
	idx   *Index
	set   *Set
	pass  *passages
	ver   atomic.Int64 // raised on every decision, for the filter cache
	page  *template.Template

	cacheMu sync.Mutex
	cache   filterResult
	search  map[string][]bool // text search results, by query
}

type filterResult struct {
	key  string
	ver  int64
	n    int
	done bool
	idx  []int32
}

// New opens the decisions and starts indexing the examples in the
// background; ctx stops the indexing.
func New(ctx context.Context, opt Options) (*Server, error) {
	if st, err := os.Stat(opt.Examples); err != nil {
		return nil, err
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder: give an examples file (.jsonl) or a workspace", opt.Examples)
	}
	if opt.Decisions == "" {
		opt.Decisions = PathFor(opt.Examples)
	}
	set, err := Load(opt.Decisions)
	if err != nil {
		return nil, err
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	page, err := template.ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, err
	}
	return &Server{opt: opt, token: hex.EncodeToString(tok[:]), idx: NewIndex(ctx, opt.Examples, opt.Flags),
		set: set, pass: newPassages(ctx, opt.Chunks), page: page, search: map[string][]bool{}}, nil
}

// Token is the secret every request must carry.
func (s *Server) Token() string { return s.token }

// Decisions is the decision set the server appends to.
func (s *Server) Decisions() *Set { return s.set }

// Index is the examples' index.
func (s *Server) Index() *Index { return s.idx }

// Listen opens a loopback listener on port (0: any free port).
func Listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// URL is the page's address on a listener, with the token.
func (s *Server) URL(ln net.Listener) string {
	return "http://" + ln.Addr().String() + "/?t=" + s.token
}

// Serve serves until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// csp lets the page run its own script and style and reach its own server,
// nothing else: no inline script, no handler attribute, no other origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /app.js", s.asset("assets/app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /app.css", s.asset("assets/app.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /api/state", s.state)
	mux.HandleFunc("GET /api/list", s.list)
	mux.HandleFunc("GET /api/example", s.example)
	mux.HandleFunc("POST /api/decide", s.decide)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		// Another site's page reaching this server through a name that
		// points at 127.0.0.1 (DNS rebinding) names its own host.
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			http.Error(w, "forbidden host", http.StatusForbidden)
			return
		}
		tok := r.Header.Get("X-Tuneline-Token")
		if tok == "" {
			tok = r.URL.Query().Get("t")
		}
		if tok == "" {
			http.Error(w, "the review page needs the token of the address tuneline review printed", http.StatusUnauthorized)
			return
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
			http.Error(w, "wrong token", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.page.Execute(w, struct{ Token string }{s.token})
}

func (s *Server) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(b)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Counts are the examples by state.
type Counts struct {
	Accepted   int `json:"accepted"`
	Rejected   int `json:"rejected"`
	Edited     int `json:"edited"`
	Unreviewed int `json:"unreviewed"`
	Changed    int `json:"changed"`
}

func (c *Counts) add(state string) {
	switch state {
	case StateAccepted:
		c.Accepted++
	case StateRejected:
		c.Rejected++
	case StateEdited:
		c.Edited++
	case StateChanged:
		c.Changed++
		c.Unreviewed++
	default:
		c.Unreviewed++
	}
}

func (s *Server) stateOf(e *entry) string {
	if e.base == "" {
		return StateUnreviewed
	}
	st, _ := s.set.state(e.id, func() string { return e.base })
	return st
}

func (s *Server) counts() Counts {
	var c Counts
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	for i := range s.idx.entries {
		c.add(s.stateOf(&s.idx.entries[i]))
	}
	return c
}

type stateReply struct {
	File      string   `json:"file"`
	Decisions string   `json:"decisions"`
	Total     int      `json:"total"`
	Indexed   bool     `json:"indexed"`
	Flagged   bool     `json:"flagged"`
	Error     string   `json:"error,omitempty"`
	Counts    Counts   `json:"counts"`
	Sources   []string `json:"sources"`
	Types     []string `json:"types"`
	Kinds     []string `json:"kinds"`
	Warnings  []string `json:"warnings,omitempty"`
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	rep := stateReply{File: filepath.Base(s.opt.Examples), Decisions: s.set.Path(), Counts: s.counts(), Warnings: s.set.Warnings}
	x := s.idx
	x.mu.RLock()
	rep.Total, rep.Indexed, rep.Flagged = len(x.entries), x.done, x.flagged
	if x.err != nil {
		rep.Error = x.err.Error()
	}
	rep.Sources = append([]string{}, x.dicts[0].names...)
	rep.Types = append([]string{}, x.dicts[1].names...)
	rep.Kinds = append([]string{}, x.dicts[2].names...)
	x.mu.RUnlock()
	writeJSON(w, rep)
}

type exampleReply struct {
	I        int               `json:"i"`
	ID       string            `json:"id"`
	Line     int               `json:"line"`
	State    string            `json:"state"`
	Decision *Decision         `json:"decision,omitempty"`
	Example  *datasets.Example `json:"example"`
	// Original is the example as the file has it, when an edit changed it.
	Original *datasets.Example `json:"original,omitempty"`
	Passage  *Passage          `json:"passage,omitempty"`
	Flags    []string          `json:"flags,omitempty"`
	DupOf    *Row              `json:"dup_of,omitempty"`
	Issues   []string          `json:"issues,omitempty"`
	Tokens   int               `json:"tokens"`
	Error    string            `json:"error,omitempty"`
}

func (s *Server) example(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(r.URL.Query().Get("i"))
	if err != nil {
		http.Error(w, "i: want an example number", http.StatusBadRequest)
		return
	}
	rec, err := s.idx.Example(i)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	x := s.idx
	x.mu.RLock()
	e := x.entries[i]
	var dup *Row
	if e.dupOf >= 0 {
		d := x.entries[e.dupOf]
		dup = &Row{I: int(e.dupOf), ID: d.id, Snippet: d.snippet}
	}
	x.mu.RUnlock()
	rep := exampleReply{I: i, ID: e.id, Line: int(e.line), State: StateUnreviewed, Flags: flagNames(e.flags), DupOf: dup}
	if rec.Err != nil {
		rep.Error = rec.Err.Error()
		writeJSON(w, rep)
		return
	}
	ex := rec.Example
	c := format.Check(rec, tokens.NewCounter(), s.opt.Flags.MaxTokens)
	rep.Tokens = c.Tokens
	for _, is := range c.Issues {
		rep.Issues = append(rep.Issues, is.Severity+": "+is.Reason)
	}
	st, d := s.set.State(&ex)
	rep.State = st
	if d.Decision != "" {
		rep.Decision = &d
	}
	rep.Example = &ex
	if st == StateEdited {
		orig := ex
		rep.Original = &orig
		ed := ex
		s.set.Apply(&ed)
		rep.Example = &ed
	}
	if ex.Meta.ChunkID != "" {
		rep.Passage = s.pass.get(ex.Meta.ChunkID)
	}
	writeJSON(w, rep)
}

type decideRequest struct {
	I        int                `json:"i"`
	ID       string             `json:"id"`
	Decision string             `json:"decision"`
	Messages []datasets.Message `json:"messages,omitempty"`
	Rejected []datasets.Message `json:"rejected,omitempty"`
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	var req decideRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxDecisionLine)).Decode(&req); err != nil {
		http.Error(w, "bad decision: "+err.Error(), http.StatusBadRequest)
		return
	}
	rec, err := s.idx.Example(req.I)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if rec.Err != nil {
		http.Error(w, "an unreadable example cannot be reviewed: "+rec.Err.Error(), http.StatusConflict)
		return
	}
	ex := &rec.Example
	if id := ExampleID(ex); id != req.ID {
		http.Error(w, fmt.Sprintf("example %d is %s now, not %s: the file changed; reload the page", req.I, id, req.ID), http.StatusConflict)
		return
	}
	d := Decision{ID: req.ID, Decision: req.Decision, Base: Base(ex)}
	if req.Decision == Edit {
		d.Messages, d.Rejected = req.Messages, req.Rejected
	}
	if err := s.set.Append(d); err != nil {
		code := http.StatusInternalServerError
		if d.check() != nil {
			code = http.StatusBadRequest
		}
		http.Error(w, err.Error(), code)
		return
	}
	s.ver.Add(1)
	st, _ := s.set.State(ex)
	writeJSON(w, struct {
		State  string `json:"state"`
		Counts Counts `json:"counts"`
	}{st, s.counts()})
}
