package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
	oaistandin "github.com/tuneline/tuneline/internal/standin/openai"
	"github.com/tuneline/tuneline/internal/testenv"
)

// The tune stage fine-tunes the openai export on the OpenAI stand-in,
// records the job in the manifest (without the key), prints the model, and
// an unchanged re-run starts no second job.
func TestTuneStage(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	y, _ := os.ReadFile(filepath.Join(dir, "tuneline.yaml"))
	y = append(y, "\ntune: {openai_model: gpt-4o-mini-2024-07-18, openai_suffix: physics, poll: 1ms}\n"...)
	os.WriteFile(filepath.Join(dir, "tuneline.yaml"), y, 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	opt := format.Options{Target: format.TargetOpenAI, OutDir: filepath.Join(dir, "build", "export", format.TargetOpenAI), Name: "physics"}
	format.DefaultConfig().Apply(&opt)
	if _, err := format.Export(context.Background(), []string{testenv.Corpus("chat-samples", "llama-factory", "v1_sft_demo.jsonl")}, opt); err != nil {
		t.Fatal(err)
	}
	s := oaistandin.New("sk-pipeline-secret-0000")
	defer s.Close()
	t.Setenv("OPENAI_API_KEY", s.Key)
	t.Setenv("OPENAI_BASE_URL", s.URL)

	ctx := context.Background()
	res, err := Run(ctx, cfg, Options{Only: "tune", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	ids := s.JobIDs()
	if len(ids) != 1 {
		t.Fatalf("jobs %v", ids)
	}
	info, _ := s.Job(ids[0])
	if a := actions(res)["tune"]; a.Action != "ran" || !strings.Contains(a.Summary, "tuned openai "+info.Model) || info.Model == "" {
		t.Fatalf("tune: %+v, job %+v", a, info)
	}
	man := ReadManifest(cfg)
	if len(man.Tuned) != 1 || man.Tuned[0].ID != ids[0] || man.Tuned[0].Model != info.Model {
		t.Fatalf("manifest: %+v", man.Tuned)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "build", "manifest.json"))
	if strings.Contains(string(b), s.Key) {
		t.Error("the key is in the manifest")
	}
	res, err = Run(ctx, cfg, Options{Only: "tune", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["tune"]; a.Action == "ran" || len(s.JobIDs()) != 1 {
		t.Errorf("an unchanged re-run: %+v, jobs %v", a, s.JobIDs())
	}
}
