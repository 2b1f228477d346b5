package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/eval"
)

func (r *runner) eval(ctx context.Context) (string, error) {
	b, model, err := r.evalBackend(ctx)
	if err != nil {
		return "", err
	}
	defer b.Close()
	qs, err := eval.LoadQuestions(ctx, r.questionsFile(), r.cfg.Eval.Questions)
	if err != nil {
		return "", err
	}
	var targets []eval.Target
	for _, m := range r.cfg.Models {
		targets = append(targets, eval.Target{Label: m.Name, Model: m.Name})
	}
	if r.cfg.Eval.Baseline {
		targets = append(targets, eval.Target{Label: "baseline " + model, Model: model, System: strings.TrimRight(r.persona.System, "\n")})
	}
	limit := r.cfg.Eval.MaxTokens
	if r.res.Gibberish {
		limit = min(limit, 48) // keep the tiny random-weight model quick
	}
	judge := r.cfg.Eval.Judge
	if judge == "" {
		judge = model
	}
	rep, err := eval.Run(ctx, qs, targets, eval.Options{Backend: b, Judge: judge, Persona: r.persona, Parallel: b.Workers(), Timeout: r.cfg.Ollama.Timeout,
		MaxTokens: limit, Seed: r.cfg.Eval.Seed,
		CacheDir: filepath.Join(r.build, "cache", "eval"), Progress: func(done, total int) { r.progress("eval", done, total) }})
	if err != nil {
		return "", err
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := datasets.WriteFileAtomic(EvalPath(r.cfg), append(js, '\n')); err != nil {
		return "", err
	}
	var parts []string
	for _, s := range rep.Summaries {
		parts = append(parts, fmt.Sprintf("%s persona %.2f accuracy %.2f", s.Target, s.Persona.Mean, s.Accuracy.Mean))
	}
	return fmt.Sprintf("%d questions: %s", len(qs), strings.Join(parts, "; ")), nil
}
