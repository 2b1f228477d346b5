package testenv

import (
	"testing"

	"github.com/tuneline/tuneline/internal/corpus"
)

// Root is the repository's top folder.
func Root() string { return corpus.Root() }

// Corpus is the path of rel inside testdata/corpora, the real files the
// tests read (each folder has its SOURCE.txt and licence).
func Corpus(rel ...string) string { return corpus.Path(rel...) }

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
