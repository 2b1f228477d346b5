package review

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tuneline/tuneline/datasets"
)

// filter is a list's filters, from the query.
type filter struct {
	source, qtype, kind, state, q string
	min, max                      float64
}

func parseFilter(r *http.Request) filter {
	v := r.URL.Query()
	f := filter{source: v.Get("source"), qtype: v.Get("type"), kind: v.Get("kind"), state: v.Get("decision"),
		q: strings.ToLower(strings.TrimSpace(v.Get("q"))), min: math.NaN(), max: math.NaN()}
	if x, err := strconv.ParseFloat(v.Get("min"), 64); err == nil {
		f.min = x
	}
	if x, err := strconv.ParseFloat(v.Get("max"), 64); err == nil {
		f.max = x
	}
	return f
}

func (f filter) key() string {
	return fmt.Sprintf("%q %q %q %q %q %v %v", f.source, f.qtype, f.kind, f.state, f.q, f.min, f.max)
}

// matching is the entries the filter keeps, cached until a decision or
// more of the index changes it.
func (s *Server) matching(ctx context.Context, f filter) ([]int32, error) {
	n, done := s.idx.Len()
	key, ver := f.key(), s.ver.Load()
	s.cacheMu.Lock()
	c := s.cache
	s.cacheMu.Unlock()
	if c.key == key && c.ver == ver && c.n == n && c.done == done {
		return c.idx, nil
	}
	var hits []bool
	if f.q != "" {
		var err error
		if hits, err = s.searchText(ctx, f.q, n); err != nil {
			return nil, err
		}
	}
	x := s.idx
	x.mu.RLock()
	out := make([]int32, 0, min(n, 1<<16))
	for i := range x.entries[:n] {
		e := &x.entries[i]
		if f.source != "" && x.dicts[0].names[e.source] != f.source ||
			f.qtype != "" && x.dicts[1].names[e.qtype] != f.qtype ||
			f.kind != "" && x.dicts[2].names[e.kind] != f.kind {
			continue
		}
		if !math.IsNaN(f.min) && !(float64(e.score) >= f.min) || !math.IsNaN(f.max) && !(float64(e.score) <= f.max) {
			continue
		}
		if f.state != "" {
			st := s.stateOf(e)
			if st != f.state && !(f.state == StateUnreviewed && st == StateChanged) {
				continue
			}
		}
		if hits != nil && (i >= len(hits) || !hits[i]) && !s.editHas(e.id, f.q) {
			continue
		}
		out = append(out, int32(i))
	}
	x.mu.RUnlock()
	s.cacheMu.Lock()
	s.cache = filterResult{key: key, ver: ver, n: n, done: done, idx: out}
	s.cacheMu.Unlock()
	return out, nil
}

// searchText finds the first n examples whose text (messages, source,
// section, id) holds q, reading the file once; results are kept per query.
func (s *Server) searchText(ctx context.Context, q string, n int) ([]bool, error) {
	s.cacheMu.Lock()
	hits, ok := s.search[q]
	s.cacheMu.Unlock()
	if ok && len(hits) >= n {
		return hits, nil
	}
	hits = make([]bool, n)
	f, err := os.Open(s.opt.Examples)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	x := s.idx
	var buf []byte
	qb := []byte(q)
	for i := 0; i < n; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		x.mu.RLock()
		e := x.entries[i]
		x.mu.RUnlock()
		if cap(buf) < int(e.n) {
			buf = make([]byte, e.n)
		}
		b := buf[:e.n]
		if _, err := f.ReadAt(b, e.off); err != nil {
			return nil, err
		}
		// The text holds q only if the raw line does, or has escapes.
		if !containsFold(b, qb) && !strings.Contains(string(b), `\`) {
			continue
		}
		rec := datasets.Raw{Data: b}.Decode()
		if rec.Err != nil {
			continue
		}
		ex := &rec.Example
		texts := []string{ex.ID, ex.Meta.Source, ex.Meta.Section, ex.Meta.Title}
		for _, m := range ex.Messages {
			texts = append(texts, m.Content)
		}
		for _, m := range ex.Rejected {
			texts = append(texts, m.Content)
		}
		for _, t := range texts {
			if strings.Contains(strings.ToLower(t), q) {
				hits[i] = true
				break
			}
		}
	}
	s.cacheMu.Lock()
	if len(s.search) > 8 {
		clear(s.search)
	}
	s.search[q] = hits
	s.cacheMu.Unlock()
	return hits, nil
}

// editHas tells whether the edit of an example holds q.
func (s *Server) editHas(id, q string) bool {
	d, ok := s.set.Get(id)
	if !ok || d.Decision != Edit {
		return false
	}
	for _, m := range slices.Concat(d.Messages, d.Rejected) {
		if strings.Contains(strings.ToLower(m.Content), q) {
			return true
		}
	}
	return false
}

func containsFold(b, lowerQ []byte) bool {
	return strings.Contains(strings.ToLower(string(b)), string(lowerQ))
}

// Row is one line of the list.
type Row struct {
	I       int      `json:"i"`
	ID      string   `json:"id"`
	Snippet string   `json:"snippet"`
	State   string   `json:"state"`
	Score   *string  `json:"score,omitempty"`
	Flags   []string `json:"flags,omitempty"`
}

func flagNames(fl uint8) []string {
	var out []string
	if fl&FlagNearDup != 0 {
		out = append(out, "near-duplicate")
	}
	if fl&FlagExactDup != 0 {
		out = append(out, "duplicate")
	}
	if fl&FlagOverLimit != 0 {
		out = append(out, "over token limit")
	}
	if fl&FlagInvalid != 0 {
		out = append(out, "invalid")
	}
	return out
}

func scoreText(v float32) *string {
	if math.IsNaN(float64(v)) {
		return nil
	}
	t := strconv.FormatFloat(float64(v), 'f', 1, 64)
	return &t
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	n = min(max(n, 1), 500)
	// The first page waits for the first examples rather than show none.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if k, done := s.idx.Len(); k > 0 || done || r.Context().Err() != nil {
			break
		}
	}
	idx, err := s.matching(r.Context(), parseFilter(r))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rows := []Row{}
	x := s.idx
	x.mu.RLock()
	for p := max(from, 0); p < len(idx) && len(rows) < n; p++ {
		e := &x.entries[idx[p]]
		rows = append(rows, Row{I: int(idx[p]), ID: e.id, Snippet: e.snippet, State: s.stateOf(e), Score: scoreText(e.score), Flags: flagNames(e.flags)})
	}
	x.mu.RUnlock()
	_, done := s.idx.Len()
	writeJSON(w, struct {
		Total   int   `json:"total"`
		Indexed bool  `json:"indexed"`
		Rows    []Row `json:"rows"`
	}{len(idx), done, rows})
}
