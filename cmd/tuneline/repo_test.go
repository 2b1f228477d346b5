package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

// repoGoFiles lists the hand-written Go files of the repository: not the
// patched third-party copies (third_party/, ingest/internal/pdf) and not
// tests unless asked.
func repoGoFiles(t *testing.T, tests bool) []string {
	t.Helper()
	root := testenv.Root()
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch rel {
			case ".git", "third_party", "testdata", filepath.Join("ingest", "internal", "pdf"):
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && (tests || !strings.HasSuffix(p, "_test.go")) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// No hand-written Go file grows past 600 lines.
func TestFileSizes(t *testing.T) {
	for _, f := range repoGoFiles(t, false) {
		b, err := os.ReadFile(filepath.Join(testenv.Root(), f))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n > 600 {
			t.Errorf("%s has %d lines; split it by job (at most 600)", f, n)
		}
	}
}

// Exactly one package (llm) builds Ollama API clients; the benchmark's
// hand-written baseline is the one deliberate exception.
func TestOneOllamaClient(t *testing.T) {
	for _, f := range repoGoFiles(t, false) {
		if strings.HasPrefix(f, "llm"+string(filepath.Separator)) || strings.HasPrefix(f, filepath.Join("bench", "synthbench")) {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(testenv.Root(), f))
		for _, call := range []string{"api.NewClient(", "api.ClientFromEnvironment("} {
			if bytes.Contains(b, []byte(call)) {
				t.Errorf("%s calls %s: use the llm package", f, call)
			}
		}
	}
}

// The stages depend on the llm package, not on each other: eval does not
// import synth.
func TestEvalDoesNotImportSynth(t *testing.T) {
	testenv.Integration(t, "the go toolchain")
	out, err := exec.Command("go", "list", "-deps", "github.com/tuneline/tuneline/eval").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("github.com/tuneline/tuneline/synth\n")) {
		t.Error("eval depends on synth")
	}
}

// `go install MODULE/cmd/tuneline@VERSION` refuses a main module with
// replace or exclude directives: go.mod must have none.
func TestGoModInstallable(t *testing.T) {
	f, err := os.Open(testenv.Root() + "/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "replace") || strings.HasPrefix(line, "exclude") {
			t.Errorf("go.mod:%d: %q: go install MODULE@VERSION refuses it", n, line)
		}
	}
}

// go.mod and go.sum are tidy: a package imported directly is not marked
// indirect, and nothing is required that no package uses (scripts/lint
// checks the same).
func TestGoModTidy(t *testing.T) {
	testenv.Integration(t, "the go toolchain")
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = testenv.Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go mod tidy -diff: %v (run go mod tidy)\n%s", err, out)
	}
}
