package review

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
)

// writeExamples writes examples as JSON Lines.
func writeExamples(t testing.TB, path string, exs []datasets.Example) {
	t.Helper()
	var b bytes.Buffer
	for _, ex := range exs {
		line, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sample() []datasets.Example {
	var out []datasets.Example
	for i, s := range []struct{ q, a, src, typ string }{
		{"What is entropy?", "A measure of disorder in a system, roughly.", "lecture.srt", "factual"},
		{"Why is the sky blue?", "Shorter wavelengths scatter more: Rayleigh scattering.", "light.pdf", "why"},
		{"How do lasers work?", "Stimulated emission makes photons of one phase.", "light.pdf", "procedural"},
	} {
		ex := qa(s.q, s.a)
		ex.Meta = datasets.Meta{Source: s.src, QuestionType: s.typ, ChunkID: "c" + string(rune('0'+i)), Scores: map[string]float64{"accuracy": float64(3 + i)}}
		out = append(out, ex)
	}
	return out
}

func newTestServer(t *testing.T, exs []datasets.Example) (*Server, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "data.jsonl")
	writeExamples(t, path, exs)
	chunks := filepath.Join(dir, "chunks.jsonl")
	os.WriteFile(chunks, []byte(`{"id":"c1","doc_id":"d","seq":0,"source":"light.pdf","kind":"pdf","page_start":4,"text":"Rayleigh scattering goes as the inverse fourth power of wavelength."}`+"\n"), 0o644)
	s, err := New(context.Background(), Options{Examples: path, Chunks: chunks, Flags: FlagOptions{MaxTokens: 4096, NearDup: 0.8}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Index().Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, path
}

func get(t *testing.T, url string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// Every path needs the token: none is 401, a wrong one 403; another host
// name (DNS rebinding) is refused too; every reply carries the CSP.
func TestServerToken(t *testing.T) {
	s, ts, _ := newTestServer(t, sample())
	for _, p := range []string{"/", "/app.js", "/api/state", "/api/list?from=0&n=5", "/api/example?i=0"} {
		if code, h, _ := get(t, ts.URL+p, nil); code != http.StatusUnauthorized || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s without token: %d, CSP %q", p, code, h.Get("Content-Security-Policy"))
		}
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if code, _, _ := get(t, ts.URL+p+sep+"t=0123", nil); code != http.StatusForbidden {
			t.Errorf("%s with a wrong token: %d", p, code)
		}
		if code, _, body := get(t, ts.URL+p+sep+"t="+s.Token(), nil); code != http.StatusOK {
			t.Errorf("%s with the token: %d %s", p, code, body)
		}
	}
	if code, _, _ := get(t, ts.URL+"/api/state", map[string]string{"X-Tuneline-Token": s.Token(), "Host": "evil.example:80"}); code != http.StatusForbidden {
		t.Errorf("another host: %d", code)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/decide", strings.NewReader(`{"i":0,"id":"x","decision":"reject"}`))
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("decide without token: %d", res.StatusCode)
	}
}

func api[T any](t *testing.T, ts *httptest.Server, s *Server, method, path string, body any) T {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ts.URL+path, rd)
	req.Header.Set("X-Tuneline-Token", s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

type listReply struct {
	Total int   `json:"total"`
	Rows  []Row `json:"rows"`
}

// Decisions through the API reach the file and the filters; the example
// comes with its passage and its edit.
func TestServerDecideAndFilter(t *testing.T) {
	s, ts, path := newTestServer(t, sample())
	ex := api[exampleReply](t, ts, s, "GET", "/api/example?i=1", nil)
	if ex.Passage == nil || !strings.Contains(ex.Passage.Text, "Rayleigh") || ex.Example.Meta.QuestionType != "why" {
		t.Errorf("example 1: %+v", ex)
	}
	id0 := api[listReply](t, ts, s, "GET", "/api/list?from=0&n=1", nil).Rows[0].ID
	api[map[string]any](t, ts, s, "POST", "/api/decide", decideRequest{I: 0, ID: id0, Decision: Reject})
	msgs := append([]datasets.Message{}, ex.Example.Messages...)
	msgs[len(msgs)-1].Content = "Rayleigh scattering: blue light scatters most."
	api[map[string]any](t, ts, s, "POST", "/api/decide", decideRequest{I: 1, ID: ex.ID, Decision: Edit, Messages: msgs})

	for q, want := range map[string]int{
		"": 3, "decision=rejected": 1, "decision=edited": 1, "decision=unreviewed": 1,
		"source=light.pdf": 2, "type=why": 1, "min=4": 2, "max=3.5": 1, "q=LASERS": 1, "q=blue+light": 1,
	} {
		if got := api[listReply](t, ts, s, "GET", "/api/list?from=0&n=10&"+q, nil).Total; got != want {
			t.Errorf("%q: %d matching, want %d", q, got, want)
		}
	}
	ed := api[exampleReply](t, ts, s, "GET", "/api/example?i=1", nil)
	if ed.State != StateEdited || ed.Example.Messages[1].Content != msgs[1].Content || ed.Original == nil {
		t.Errorf("edited example: %+v", ed)
	}
	set, _ := Load(PathFor(path))
	if d, _ := set.Get(id0); d.Decision != Reject || d.Base == "" || d.Time.IsZero() || time.Since(d.Time) > time.Minute {
		t.Errorf("file holds %+v", d)
	}
	// A stale page (the file changed under it) is refused, not misapplied.
	req, _ := json.Marshal(decideRequest{I: 2, ID: id0, Decision: Accept})
	r, _ := http.NewRequest("POST", ts.URL+"/api/decide", bytes.NewReader(req))
	r.Header.Set("X-Tuneline-Token", s.Token())
	if res, _ := http.DefaultClient.Do(r); res.StatusCode != http.StatusConflict {
		t.Errorf("decision on the wrong id: %d", res.StatusCode)
	}
}

// An export with the decisions leaves the rejected example out, writes the
// edited one as edited and counts both.
func TestExportHonoursDecisions(t *testing.T) {
	dir := t.TempDir()
	exs := sample()
	path := filepath.Join(dir, "data.jsonl")
	writeExamples(t, path, exs)
	set, _ := Load(PathFor(path))
	set.Append(Decision{ID: exs[0].ID, Decision: Reject, Base: Base(&exs[0])})
	ed := append([]datasets.Message{}, exs[1].Messages...)
	ed[1].Content = "edited by a person"
	set.Append(Decision{ID: exs[1].ID, Decision: Edit, Messages: ed, Base: Base(&exs[1])})
	opt := format.Options{Target: format.TargetOpenAI, OutDir: filepath.Join(dir, "out"), Split: 1, Review: set.Apply}
	rep, err := format.Export(context.Background(), []string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out", "train.jsonl"))
	if rep.Written != 2 || rep.Review[StateRejected] != 1 || rep.Review[StateEdited] != 1 || rep.Dropped["rejected_in_review"] != 1 ||
		strings.Contains(string(b), "disorder") || !strings.Contains(string(b), "edited by a person") {
		t.Errorf("written %d, review %v, dropped %v\n%s", rep.Written, rep.Review, rep.Dropped, b)
	}
}

func writeChunk(t testing.TB, path, id, text string) {
	t.Helper()
	b, _ := json.Marshal(datasets.Chunk{ID: id, DocID: "d", Source: "s.md", Kind: "markdown", Text: text})
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
