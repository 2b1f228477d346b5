package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/eval"
)

// evalStage asks the created models (and the baseline) held-out
// questions and judges the replies.
var evalStage = stage{
	name: "eval", format: 1, model: true, enabled: func(c *Config) bool { return c.Eval.Enabled && c.Create.Enabled && len(c.Models) > 0 },
	section: func(c *Config) any { return &c.Eval }, doc: "Held-out questions asked of the created models (and the baseline).",
	inputs: (*runner).evalInputs, run: (*runner).eval,
}

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

func (r *runner) evalInputs(d map[string]string) ([]string, error) {
	d["models"], _ = hashFile(r.cfg.Layout().Models())
	d["questions"], _ = hashFile(r.questionsFile())
	d["persona"] = r.persona.Hash()
	d["params"] = hashJSON(r.cfg.Eval)
	return []string{EvalPath(r.cfg)}, nil
}
