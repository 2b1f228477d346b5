package pipelines

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/standin/hfhub"
	"github.com/tuneline/tuneline/internal/testenv"
)

// The publish stage sends the hf export to the Hub (stand-in) and the
// vertex export to Cloud Storage (fake-gcs-server), records the commit and
// the generations in the manifest, and an unchanged re-run pushes nothing.
func TestPublishStage(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	dir := workspace(t, "http://127.0.0.1:9")
	y, _ := os.ReadFile(filepath.Join(dir, "tuneline.yaml"))
	y = append(y, "\npublish: {hf_repo: alice/physics, gcs: gs://bkt/physics/v1}\n"...)
	os.WriteFile(filepath.Join(dir, "tuneline.yaml"), y, 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cfg.Export.Formats, ","), "vertex") {
		cfg.Export.Formats = append(cfg.Export.Formats, "vertex")
	}
	// The export stage's outputs, made directly (the stage needs a model).
	for _, f := range []string{"hf", "vertex"} {
		opt := format.Options{Target: f, OutDir: filepath.Join(dir, "build", "export", f), Name: "physics"}
		format.DefaultConfig().Apply(&opt)
		if _, err := format.Export(context.Background(), []string{testenv.Corpus("chat-samples", "llama-factory", "v1_sft_demo.jsonl")}, opt); err != nil {
			t.Fatal(err)
		}
	}
	hub := hfhub.Start(map[string]string{"hf_secret_alice": "alice"})
	defer hub.Close()
	t.Setenv("HF_ENDPOINT", hub.URL)
	t.Setenv("HF_TOKEN", "hf_secret_alice")
	testenv.FakeGCS(t, "bkt")

	ctx := context.Background()
	res, err := Run(ctx, cfg, Options{Only: "publish", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["publish"]; a.Action != "ran" || !strings.Contains(a.Summary, "hf alice/physics@") || !strings.Contains(a.Summary, "3 uploaded, 0 unchanged") {
		t.Fatalf("publish: %+v", a)
	}
	man := ReadManifest(cfg)
	if man.Published == nil || man.Published.HF == nil || man.Published.GCS == nil || len(man.Published.GCS.Objects) != 3 || man.Published.GCS.Objects[0].Generation == 0 {
		t.Fatalf("manifest: %+v", man.Published)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "build", "manifest.json"))
	if strings.Contains(string(b), "hf_secret_alice") {
		t.Error("the token is in the manifest")
	}
	if hub.Commits() != 1 {
		t.Errorf("%d commits", hub.Commits())
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "build", "export", "hf", "README.md"))
	if got, _, _ := hub.File("datasets/alice/physics", "main", "README.md"); string(got) != string(readme) {
		t.Error("README.md did not land")
	}

	next := strings.Join(NextSteps(cfg), "\n")
	if !strings.Contains(next, "published: "+hub.URL+"/datasets/alice/physics (commit ") || !strings.Contains(next, "published: gs://bkt/physics/v1 (3 objects)") || strings.Contains(next, "tuneline publish hf") {
		t.Errorf("next steps:\n%s", next)
	}

	// Unchanged: skipped, nothing pushed.
	res, err = Run(ctx, cfg, Options{Only: "publish", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["publish"]; a.Action != "skipped" || hub.Commits() != 1 {
		t.Errorf("second run: %+v, %d commits", a, hub.Commits())
	}

	// Random-model data is refused, saying how to force it.
	rp := filepath.Join(dir, "build", "export", "hf", "export-report.json")
	var rep map[string]any
	b, _ = os.ReadFile(rp)
	json.Unmarshal(b, &rep)
	rep["random_model"] = true
	b, _ = json.Marshal(rep)
	os.WriteFile(rp, b, 0o644)
	_, err = Run(ctx, cfg, Options{Only: "publish", Version: "v1"})
	if err == nil || !strings.Contains(err.Error(), "random-weight model") || !strings.Contains(err.Error(), "publish.force") {
		t.Errorf("random model export: %v", err)
	}
}
