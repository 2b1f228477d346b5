package eval

// Fast unit tests of the statistics and the run loop, with a scripted
// backend; TestEvalRealServer stays the proof against a real Ollama.

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/llm"
)

func TestStat(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want Stat
	}{
		{nil, Stat{}},
		{[]float64{4}, Stat{Mean: 4, N: 1}},
		{[]float64{2, 4}, Stat{Mean: 3, CI95: 1.96 * math.Sqrt(2) / math.Sqrt(2), N: 2}},
		{[]float64{1, 2, 3, 4, 5}, Stat{Mean: 3, CI95: 1.96 * math.Sqrt(2.5) / math.Sqrt(5), N: 5}},
		{[]float64{3, 3, 3}, Stat{Mean: 3, CI95: 0, N: 3}},
	} {
		got := stat(tt.xs)
		if math.Abs(got.Mean-tt.want.Mean) > 1e-12 || math.Abs(got.CI95-tt.want.CI95) > 1e-12 || got.N != tt.want.N {
			t.Errorf("stat(%v) = %+v, want %+v", tt.xs, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	as := []Answer{
		{Judgement: Judgement{Persona: 5, Accuracy: 4, Grounding: 3}, Seconds: 1, Chars: 10},
		{Judgement: Judgement{Persona: 3, Accuracy: 2, Grounding: 1, BrokeCharacter: true}, Seconds: 3, Chars: 30, Refusal: true},
		{Error: "timeout"},
	}
	s := summarize(Target{Label: "A", Model: "m"}, as)
	if s.Errors != 1 || s.Persona.Mean != 4 || s.Accuracy.Mean != 3 || s.Grounding.Mean != 2 || s.Latency.Mean != 2 || s.Length.Mean != 20 {
		t.Errorf("summary %+v", s)
	}
	if s.BrokeCharacter != 0.5 || s.RefusalRate != 0.5 || s.Persona.N != 2 {
		t.Errorf("rates: broke %v refusal %v n %d", s.BrokeCharacter, s.RefusalRate, s.Persona.N)
	}
}

// fake answers targets with a fixed reply and the judge with scores; an
// out-of-range judgement is asked again.
type fake struct {
	mu     sync.Mutex
	judged int
}

func (f *fake) Chat(_ context.Context, r llm.Request) (llm.Reply, error) {
	if r.Schema == nil {
		return llm.Reply{Content: " As an AI model I cannot say. "}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.judged++
	if f.judged == 1 {
		return llm.Reply{Content: `{"persona":9,"accuracy":1,"grounding":1,"broke_character":false}`}, nil
	}
	return llm.Reply{Content: `{"persona":2,"accuracy":4,"grounding":5,"broke_character":true}`}, nil
}

func (f *fake) Preflight(context.Context, string, bool) (llm.ModelInfo, error) {
	return llm.ModelInfo{ContextLength: 4096}, nil
}

func TestRunScripted(t *testing.T) {
	qs := []Question{{ID: "q1", Question: "Why is the sky blue?", Reference: "Scattering."}}
	f := &fake{}
	var progress []int
	rep, err := Run(context.Background(), qs, []Target{{Label: "base", Model: "m", System: "You are Ada."}}, Options{
		Backend: f, Judge: "j", Parallel: 1, CacheDir: t.TempDir(), Progress: func(done, total int) { progress = append(progress, done, total) }})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Answers[0]
	if a.Error != "" || a.Reply != "As an AI model I cannot say." || !a.Refusal || a.Judgement.Persona != 2 || !a.Judgement.BrokeCharacter {
		t.Errorf("answer %+v", a)
	}
	if f.judged != 2 {
		t.Errorf("judge asked %d times, want 2 (the first judgement was out of range)", f.judged)
	}
	// 0 of 1 before the first answer (the share from the start), then 1 of 1.
	if !slices.Equal(progress, []int{0, 1, 1, 1}) {
		t.Errorf("progress %v, want 0/1 then 1/1", progress)
	}
	if s := rep.Summaries[0]; s.Target != "base" || s.RefusalRate != 1 || !strings.EqualFold(rep.Judge, "j") {
		t.Errorf("summary %+v", s)
	}
}
