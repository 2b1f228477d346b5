package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/cutchat"
)

// tuneline synth exits 0 when at most --max-failed of its tasks failed
// (2 of 40 here, every reply to them cut), writes the other tasks'
// examples and lists the failed ones; above it, it exits 1. A re-run with
// the server well asks for the 2 alone.
func TestSynthMaxFailed(t *testing.T) {
	dir := t.TempDir()
	chunks := filepath.Join(dir, "chunks.jsonl")
	var b strings.Builder
	for i := range 40 { // 40 chunks of one task each
		c := datasets.Chunk{ID: fmt.Sprintf("c%02d", i), DocID: "d", Seq: i, Source: "notes.md", Kind: "markdown", Tokens: 12,
			Text: fmt.Sprintf("Note %d: the pendulum's period grows with the square root of its length, %d cm here.", i, 10+i)}
		j, _ := json.Marshal(c)
		b.Write(append(j, '\n'))
	}
	os.WriteFile(chunks, []byte(b.String()), 0o644)

	srv := cutchat.New("m", 2)
	front := httptest.NewServer(srv)
	defer front.Close()
	outFile := filepath.Join(dir, "examples.jsonl")
	synth := func(maxFailed string) (int, string) {
		code, _, errOut := run(t, "synth", "--api", "openai", "--base-url", front.URL+"/v1", "--model", "m", "--persona", "../../synth/testdata/persona.yaml",
			"--pairs", "1", "--parallel", "2", "--retries", "1", "--cache", filepath.Join(dir, "cache"), "--out", outFile, "--max-failed", maxFailed, chunks)
		return code, errOut
	}

	code, errOut := synth("0.04")
	if code != ExitFailure || !strings.Contains(errOut, "2 of 40 tasks failed after retries (see above), more than --max-failed 0.04") {
		t.Fatalf("--max-failed 0.04: exit %d\n%s", code, errOut)
	}
	code, errOut = synth("0.05")
	if code != ExitOK || !strings.Contains(errOut, "2 of 40 tasks failed after retries, within --max-failed 0.05") || strings.Count(errOut, "  task failed: chunk ") != 2 {
		t.Fatalf("--max-failed 0.05: exit %d\n%s", code, errOut)
	}
	if n, _ := datasets.CountLines(outFile); n != 38 {
		t.Errorf("%d examples written, want the 38 tasks' one each", n)
	}

	srv.Disarm()
	before := srv.Asked()
	code, errOut = synth("0")
	if code != ExitOK || !strings.Contains(errOut, "(38 from cache)") {
		t.Fatalf("re-run: exit %d\n%s", code, errOut)
	}
	if again := srv.AskedSince(before); len(again) != 2 {
		t.Errorf("the re-run asked %d tasks, want the 2 that failed", len(again))
	}
	if n, _ := datasets.CountLines(outFile); n != 40 {
		t.Errorf("%d examples after the re-run, want 40", n)
	}
}
