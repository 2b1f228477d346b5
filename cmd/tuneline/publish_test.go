package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/standin/hfhub"
	"github.com/tuneline/tuneline/internal/testenv"
)

func exportFor(t *testing.T, target string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), target)
	if code, _, errOut := run(t, "-q", "export", "--format", target, "--out", out, corpora+"llama-factory/v1_sft_demo.jsonl"); code != ExitOK {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	return out
}

func TestPublishHFCommand(t *testing.T) {
	dir := exportFor(t, "hf")
	srv := hfhub.Start(map[string]string{"hf_alice": "alice"})
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")

	// No token anywhere: exit 1 naming HF_TOKEN and the token file.
	code, _, errOut := run(t, "publish", "hf", "alice/demo", dir)
	if code != ExitFailure || !strings.Contains(errOut, "HF_TOKEN") || !strings.Contains(errOut, "token") {
		t.Errorf("no token: exit %d\n%s", code, errOut)
	}
	t.Setenv("HF_TOKEN", "hf_bad")
	code, _, errOut = run(t, "publish", "hf", "alice/demo", dir)
	if code != ExitFailure || !strings.Contains(errOut, "token from HF_TOKEN was refused") || strings.Contains(errOut, "hf_bad") {
		t.Errorf("bad token: exit %d\n%s", code, errOut)
	}

	t.Setenv("HF_TOKEN", "hf_alice")
	code, out, errOut := run(t, "publish", "hf", "alice/demo", dir)
	if code != ExitOK || !strings.Contains(out, srv.URL+"/datasets/alice/demo: commit ") {
		t.Fatalf("publish: exit %d\n%s\n%s", code, out, errOut)
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if got, _, _ := srv.File("datasets/alice/demo", "main", "README.md"); string(got) != string(readme) {
		t.Errorf("README.md differs in the repo")
	}
	code, out, _ = run(t, "publish", "hf", "--json", "alice/demo", dir)
	var res struct {
		Committed bool
		Uploaded  int
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &res) != nil || res.Committed || res.Uploaded != 0 || srv.Commits() != 1 {
		t.Errorf("second publish: exit %d, %d commits\n%s", code, srv.Commits(), out)
	}
}

func TestPublishRefusesRandomModel(t *testing.T) {
	dir := exportFor(t, "vertex")
	p := filepath.Join(dir, "export-report.json")
	var rep map[string]any
	b, _ := os.ReadFile(p)
	json.Unmarshal(b, &rep)
	rep["random_model"] = true
	b, _ = json.Marshal(rep)
	os.WriteFile(p, b, 0o644)
	for _, args := range [][]string{{"publish", "hf", "alice/demo", dir}, {"publish", "gcs", "gs://b/p", dir}} {
		code, _, errOut := run(t, args...)
		if code != ExitFailure || !strings.Contains(errOut, "random-weight model") || !strings.Contains(errOut, "--force") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

func TestPublishGCSCommand(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	dir := exportFor(t, "vertex")
	testenv.FakeGCS(t, "bkt")
	code, out, errOut := run(t, "publish", "gcs", "gs://bkt/v1", dir)
	if code != ExitOK || strings.Count(out, "\tuploaded") != 3 {
		t.Fatalf("publish gcs: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out2, _ := run(t, "publish", "gcs", "gs://bkt/v1", dir)
	if code != ExitOK || strings.Count(out2, "\tunchanged") != 3 || strings.ReplaceAll(out, "uploaded", "unchanged") != out2 {
		t.Errorf("second publish gcs: exit %d\n%s\nfirst:\n%s", code, out2, out)
	}
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	code, _, errOut = run(t, "publish", "gcs", "gs://bkt/v1", dir)
	if code != ExitFailure || !strings.Contains(errOut, "GOOGLE_APPLICATION_CREDENTIALS") {
		t.Errorf("missing credentials: exit %d\n%s", code, errOut)
	}
}
