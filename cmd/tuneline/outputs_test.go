package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ingest --out X --examples X lost the chunks silently; an output that is
// also an input would replace it. Both are refused before anything is
// written (issue 29, case 10).
func TestIngestSamePathTwice(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "notes.md")
	os.WriteFile(src, []byte("# Notes\n\nSome text about entropy, long enough to be a chunk of its own.\n"), 0o644)
	x := filepath.Join(dir, "x.jsonl")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--out", x, "--examples", x, src}, "--out and --examples are the same file"},
		{[]string{"ingest", "--out", x, "--examples", filepath.Join(dir, ".", "x.jsonl"), src}, "--out and --examples are the same file"},
		{[]string{"ingest", "--out", src, src}, "is also an input"},
	} {
		code, _, errOut := run(t, tt.args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %s; want %q", tt.args, code, errOut, tt.want)
		}
	}
	if b, _ := os.ReadFile(src); !strings.HasPrefix(string(b), "# Notes") {
		t.Errorf("the source was replaced: %q", b)
	}
	if code, _, errOut := run(t, "ingest", "--out", x, "--examples", filepath.Join(dir, "ex.jsonl"), src); code != 0 {
		t.Errorf("distinct outputs: exit %d: %s", code, errOut)
	}
}
