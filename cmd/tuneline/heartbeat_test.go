package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/testenv"
)

// On a machine where each model request takes 40 s, a user watching the
// log still sees a line at least every 10 s: the heartbeat, not the items,
// paces the progress.
func TestSynthHeartbeatOnSlowServer(t *testing.T) {
	srv := testenv.Ollama(t)
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/chat" {
			select { // the server thinks for 40 s before it answers
			case <-time.After(40 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	defer slow.Close()
	dir := t.TempDir()
	chunks := filepath.Join(dir, "chunks.jsonl")
	os.WriteFile(chunks, []byte(`{"id":"c1","doc_id":"d","seq":0,"source":"s.md","kind":"markdown","tokens":12,"text":"Light is a wave and a particle; its speed in vacuum is the same for every observer."}`+"\n"), 0o644)
	cmd := subCLI("synth", "--model", testenv.TinyModel, "--host", slow.URL, "--persona", "../../synth/testdata/persona.yaml",
		"--out", filepath.Join(dir, "out.jsonl"), "--cache", filepath.Join(dir, "cache"), "--pairs", "1", "--parallel", "1",
		"--max-question-chars", "30", "--max-answer-chars", "60", chunks)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, maxGap := start, time.Duration(0)
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		now := time.Now()
		maxGap = max(maxGap, now.Sub(last))
		last = now
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("synth: %v\n%s", err, strings.Join(lines, "\n"))
	}
	t.Logf("%.0f s, %d stderr lines, longest gap %.1f s", time.Since(start).Seconds(), len(lines), maxGap.Seconds())
	if time.Since(start) < 40*time.Second {
		t.Fatal("the request was not held: the test proves nothing")
	}
	if maxGap > 10*time.Second {
		t.Errorf("stderr was silent for %.1f s (at most 10 s):\n%s", maxGap.Seconds(), strings.Join(lines, "\n"))
	}
}
