package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Shutdown()
	os.Exit(code)
}

// Against the real server: every (model, question) gets a judgement in
// range, the summary has means and intervals, and a second run gives the
// same report from the cache.
func TestEvalRealServer(t *testing.T) {
	srv := testenv.Ollama(t)
	p, err := persona.Load("../synth/testdata/persona.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := llm.NewOllama(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := LoadQuestions(context.Background(), "../examples/chat/physics-qa.jsonl", 4)
	if err != nil || len(qs) != 4 {
		t.Fatalf("%v %d", err, len(qs))
	}
	targets := []Target{{Label: "tuned", Model: testenv.TinyModel}, {Label: "baseline", Model: testenv.TinyModel, System: p.System}}
	opt := Options{Backend: b, Judge: testenv.TinyModel, Persona: p, Parallel: 4, MaxTokens: 64, Timeout: 2 * time.Minute, CacheDir: filepath.Join(t.TempDir(), "cache")}
	var progress []int
	opt.Progress = func(done, total int) {
		if total != 8 {
			t.Errorf("progress total %d, want 8", total)
		}
		progress = append(progress, done)
	}
	rep, err := Run(context.Background(), qs, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	// 0 of 8 first (the progress line's share and ETA from the start),
	// then each judged answer once.
	if fmt.Sprint(progress) != "[0 1 2 3 4 5 6 7 8]" {
		t.Errorf("progress %v, want [0 1 2 3 4 5 6 7 8]", progress)
	}
	opt.Progress = nil
	if len(rep.Answers) != 8 || len(rep.Summaries) != 2 {
		t.Fatalf("%d answers, %d summaries", len(rep.Answers), len(rep.Summaries))
	}
	for _, a := range rep.Answers {
		if a.Error != "" || !inRange(a.Judgement.Persona) || !inRange(a.Judgement.Accuracy) || !inRange(a.Judgement.Grounding) || a.Seconds <= 0 {
			t.Errorf("answer %+v", a)
		}
	}
	for _, s := range rep.Summaries {
		if s.Persona.N != 4 || s.Persona.Mean < 1 || s.Persona.Mean > 5 || s.Errors != 0 {
			t.Errorf("summary %+v", s)
		}
	}
	again, err := Run(context.Background(), qs, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rep)
	b2, _ := json.Marshal(again)
	if string(a) != string(b2) {
		t.Errorf("second run differs:\n%s\n%s", a, b2)
	}
}
