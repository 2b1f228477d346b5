package testenv

import (
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository's top folder (found from this file's place, so it
// holds for a test run from any package).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Corpus is the path of rel inside testdata/corpora, the real files the
// tests read (each folder has its SOURCE.txt and licence).
func Corpus(rel ...string) string {
	return filepath.Join(append([]string{Root(), "testdata", "corpora"}, rel...)...)
}

// Integration marks a test that runs a real outside program (Ollama,
// Chromium, DuckDB through npm, the go toolchain): skipped under -short, the
// fast inner loop, and run by the full suite, where it must pass (never
// skipped there).
func Integration(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s: run without -short", what)
	}
}
