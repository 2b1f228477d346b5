package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("TUNELINE_TEST_AS_CLI") == "1" {
		// The test binary doubles as the tuneline command for subprocess tests.
		ctx := signalContext(graceAfterSignal)
		if p := os.Getenv("TUNELINE_TEST_SIGNALS_READY"); p != "" {
			// Signals are handled from here on: a test that signals the
			// subprocess waits for this file (starting the test binary
			// takes from 0.4 s to well over 1 s on a loaded machine).
			os.WriteFile(p, nil, 0o644)
		}
		os.Exit(Run(ctx, os.Args, iostreams.System()))
	}
	code := m.Run()
	testenv.Shutdown()
	os.Exit(code)
}

// subCLI runs the test binary as tuneline.
func subCLI(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TUNELINE_TEST_AS_CLI=1")
	return cmd
}

// kill -9 in the middle of a run, then run again: every chunk is covered,
// no example is duplicated, the output never existed half-written, and the
// work done before the kill came from the cache.
func TestSynthKillAndResume(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	chunks := filepath.Join(dir, "chunks.jsonl")
	code, out, errOut := run(t, "-q", "ingest", "--chunk-tokens", "40", "--overlap", "0", "--out", chunks, testenv.Corpus("subtitles/sintel/sintel_en.srt"))
	if code != 0 {
		t.Fatalf("ingest: %d %s %s", code, out, errOut)
	}
	b, _ := os.ReadFile(chunks)
	nChunks := len(strings.Split(strings.TrimSpace(string(b)), "\n"))
	cache := filepath.Join(dir, "cache")
	outFile := filepath.Join(dir, "examples.jsonl")
	args := []string{"-q", "synth", "--model", testenv.TinyModel, "--host", srv.URL, "--persona", "../../synth/testdata/persona.yaml",
		"--out", outFile, "--cache", cache, "--pairs", "2", "--parallel", "2", "--max-question-chars", "30", "--max-answer-chars", "60", chunks}

	cmd := subCLI(args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once a few tasks are cached.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		entries, _ := filepath.Glob(filepath.Join(cache, "*", "*.json"))
		if len(entries) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress within 3 minutes: %s", stderr.String())
		}
		if cmd.ProcessState != nil {
			t.Fatalf("synth exited early: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(outFile); err == nil {
		t.Fatal("the output file exists after kill -9: it must appear only complete")
	}
	before, _ := filepath.Glob(filepath.Join(cache, "*", "*.json"))
	if len(before) >= nChunks {
		t.Fatalf("the run finished before the kill (%d cached of %d)", len(before), nChunks)
	}

	res, err := subCLI(append([]string{"--quiet"}, args[1:]...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("re-run: %v\n%s", err, res)
	}
	seen := map[string]bool{}
	perChunk := map[string]int{}
	for rec, err := range datasets.ReadFile(context.Background(), outFile) {
		if err != nil || rec.Err != nil {
			t.Fatalf("%v %v", err, rec.Err)
		}
		if seen[rec.Example.ID] {
			t.Errorf("duplicate example %s", rec.Example.ID)
		}
		seen[rec.Example.ID] = true
		perChunk[rec.Example.Meta.ChunkID]++
	}
	if len(perChunk) != nChunks {
		t.Errorf("examples cover %d of %d chunks", len(perChunk), nChunks)
	}
	for c, n := range perChunk {
		if n != 2 {
			t.Errorf("chunk %s has %d examples, want 2", c, n)
		}
	}
	after, _ := filepath.Glob(filepath.Join(cache, "*", "*.json"))
	if len(after) != nChunks {
		t.Errorf("%d cache entries for %d chunks", len(after), nChunks)
	}
}
