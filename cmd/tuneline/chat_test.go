package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/testenv"
)

// recorder is a proxy in front of the real server that keeps the chat
// requests it forwards.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	proxy  *httputil.ReverseProxy
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.HasSuffix(req.URL.Path, "/api/chat") {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	r.proxy.ServeHTTP(w, req)
}

// A planted fact is retrieved into the prompt the server receives; the
// interaction log, rated, becomes examples through ingest --good-only.
func TestChatMemoryLoop(t *testing.T) {
	srv := testenv.Ollama(t)
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	// No kept-alive connections to reuse after the server closed them.
	rp.Transport = &http.Transport{DisableKeepAlives: true}
	rec := &recorder{proxy: rp}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	dir := t.TempDir()
	mem := filepath.Join(dir, "memory")
	facts := filepath.Join(dir, "facts.yaml")
	os.WriteFile(facts, []byte("student:\n  favourite particle: muon\ncourse:\n  exam date: 12 June\n"), 0o644)

	code, out, errOut := run(t, "chat", testenv.TinyModel, "--host", proxy.URL, "--persona", "../../synth/testdata/persona.yaml",
		"--memory", mem, "--facts", facts, "--max-tokens", "32", "--ask", "Which particle is my favourite?", "--rate", "good")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if len(rec.bodies) != 1 {
		t.Fatalf("%d chat requests", len(rec.bodies))
	}
	var req struct {
		Messages []struct{ Role, Content string }
	}
	json.Unmarshal([]byte(rec.bodies[0]), &req)
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.Contains(req.Messages[0].Content, "favourite particle = muon") ||
		!strings.Contains(req.Messages[0].Content, "Ada Whitfield") || strings.Contains(req.Messages[0].Content, "exam date") {
		t.Errorf("prompt sent: %+v", req.Messages)
	}

	// The interactive loop: a fact taught with /fact is recalled, a turn
	// rated bad stays out of the good-only examples.
	ios, in, stdout, stderr := iostreams.Test()
	in.WriteString("/fact lab room=B204\nWhere is the lab room?\n/bad\nWhat is a muon?\n/quit\n")
	if code := Run(context.Background(), []string{"tuneline", "chat", testenv.TinyModel, "--host", proxy.URL, "--memory", mem, "--max-tokens", "32"}, ios); code != 0 {
		t.Fatalf("repl exit %d: %s\n%s", code, stdout.String(), stderr.String())
	}
	last := rec.bodies[1]
	if !strings.Contains(last, "room = B204") {
		t.Errorf("the /fact was not in the prompt: %s", last)
	}
	// ingest reads the log back: 3 turns, 1 rated good.
	code, out, errOut = run(t, "ingest", "--json", "--good-only", "--examples", filepath.Join(dir, "good.jsonl"), "--out", filepath.Join(dir, "c.jsonl"), filepath.Join(mem, "interactions.jsonl"))
	if code != 0 {
		t.Fatalf("ingest: %d %s %s", code, out, errOut)
	}
	n := 0
	for rec, err := range datasets.ReadFile(context.Background(), filepath.Join(dir, "good.jsonl")) {
		if err != nil || rec.Err != nil {
			t.Fatalf("%v %v", err, rec.Err)
		}
		n++
		if rec.Example.Messages[0].Content != "Which particle is my favourite?" || rec.Example.Meta.Extra["rating"] != "good" {
			t.Errorf("example %+v", rec.Example)
		}
	}
	if n != 1 {
		t.Errorf("%d good examples, want 1", n)
	}
	code, out, _ = run(t, "validate", filepath.Join(dir, "good.jsonl"))
	if code != 0 {
		t.Errorf("validate: %s", out)
	}
	b, _ := os.ReadFile(filepath.Join(mem, "interactions.jsonl"))
	if lines := strings.Count(string(b), "\n"); lines != 3 {
		t.Errorf("%d logged interactions, want 3", lines)
	}
}
