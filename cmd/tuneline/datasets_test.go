package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
)

// datasetsWorkspace is examples/physics-expert with a curated dataset and
// its openai and hf exports in build/, made without a model server.
func datasetsWorkspace(t *testing.T) (dir string, examples int) {
	t.Helper()
	dir = t.TempDir()
	for _, f := range []string{"tuneline.yaml", "persona.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/physics-expert", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	build := filepath.Join(dir, "build")
	os.MkdirAll(build, 0o755)
	data, err := os.ReadFile(corpora + "llama-factory/v1_sft_demo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	curated := filepath.Join(build, "curated.jsonl")
	os.WriteFile(curated, data, 0o644)
	for _, target := range []string{format.TargetOpenAI, format.TargetHF} {
		rep, err := format.Export(context.Background(), []string{curated}, format.Options{Target: target, Kind: format.KindChat,
			OutDir: filepath.Join(build, "export", target), Split: 0.8, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		examples = rep.Written
	}
	return dir, examples
}

// The datasets commands take the workspace folder as an argument, as run
// and report do (they failed with "open tuneline.yaml", and stats read the
// folder as an empty dataset: "0 examples", exit 0); list shows the hf
// export's Parquet files.
func TestDatasetsWorkspaceArg(t *testing.T) {
	dir, _ := datasetsWorkspace(t)
	code, out, errOut := run(t, "datasets", "list", dir)
	if code != ExitOK {
		t.Fatalf("list DIR: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"curated", "export openai train", "export hf train", "export hf validation", "train-00000-of-00001.parquet"} {
		if !strings.Contains(out, want) {
			t.Errorf("list DIR lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{{"datasets", "stats", dir}, {"datasets", "stats", filepath.Join(dir, "tuneline.yaml")}, {"datasets", "stats", "-w", dir}} {
		code, out, errOut = run(t, args...)
		if code != ExitOK || !strings.Contains(out, filepath.Join(dir, "build", "curated.jsonl")+": 500 examples") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// A folder that is no workspace is said to be one, never 0 examples.
	code, out, errOut = run(t, "datasets", "stats", t.TempDir())
	if code == ExitOK || !strings.Contains(errOut, "tuneline.yaml") {
		t.Errorf("stats of a folder without a workspace: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run(t, "datasets", "diff", dir)
	if code == ExitOK || !strings.Contains(errOut, "history") {
		t.Errorf("diff DIR of a workspace without builds: exit %d\n%s", code, errOut)
	}
}
