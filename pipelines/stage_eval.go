package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
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
	targets, opt := r.cfg.EvalPlan(model, r.persona, b)
	if r.res.Gibberish {
		opt.MaxTokens = min(opt.MaxTokens, 48) // keep the tiny random-weight model quick
	}
	opt.Progress = func(done, total int) { r.progress("eval", done, total) }
	rep, err := eval.Run(ctx, qs, targets, opt)
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
