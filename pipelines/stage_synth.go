package pipelines

import (
	"context"
	"fmt"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/synth"
)

// synthStage generates examples from the chunks.
var synthStage = stage{
	name: "synth", format: 1, model: true, enabled: func(c *Config) bool { return c.Synth.Enabled },
	section: func(c *Config) any { return &c.Synth }, doc: "Chunks to question/answer pairs and conversations in the persona's voice.",
	inputs: (*runner).synthInputs, run: (*runner).synth,
}

func (r *runner) synthInputs(d map[string]string) ([]string, error) {
	d["chunks"], _ = hashFile(r.chunks())
	d["persona"] = r.persona.Hash()
	d["model"] = serverKey(r.cfg.Ollama)
	d["params"] = hashJSON(r.cfg.Synth)
	return []string{r.synthOut()}, nil
}

func (r *runner) synth(ctx context.Context) (string, error) {
	b, model, err := r.backend(ctx)
	if err != nil {
		return "", err
	}
	defer b.Close()
	opt := r.cfg.SynthOptions(model, r.persona, b)
	opt.Progress = func(s *synth.Summary) { r.progress("synth", s.TasksDone, s.Tasks) }
	if r.res.Gibberish { // keep the tiny random-weight model quick
		opt.Limits = synth.Limits{QuestionChars: min(opt.Limits.QuestionChars, 60), AnswerChars: min(opt.Limits.AnswerChars, 160)}
	}
	f, err := datasets.CreateAtomic(r.synthOut())
	if err != nil {
		return "", err
	}
	defer f.Abort()
	sum, err := synth.Run(ctx, r.chunks(), opt, f)
	if err != nil {
		return "", err
	}
	r.man.TinyModel = r.res.Gibberish
	failed := sum.FailedTasks()
	if sum.TooManyFailed(opt.MaxFailed) {
		return "", fmt.Errorf("%d of %d tasks failed after their retries (%s), more than synth.max_failed (%g of the tasks); run again to retry them (the others come from the cache)",
			failed, sum.Tasks, sum.Causes(), opt.MaxFailed)
	}
	if err := f.Commit(); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%d chunks, %d examples (%d tasks from cache, %d requests)", sum.Chunks, sum.Examples, sum.Cached, sum.Requests)
	if sum.Requests > 0 && sum.Parallel != "" {
		msg += "; " + sum.Parallel
	}
	if failed > 0 {
		// Within the allowance: the stage keeps what the other tasks
		// made; the failed ones are listed (record, result, report) and
		// the next run asks for them alone (the cache holds the rest).
		for _, x := range sum.Failed {
			r.failed = append(r.failed, x.String())
			fmt.Fprintf(r.log, "         task failed: %s\n", x)
		}
		if n := failed - len(sum.Failed); n > 0 {
			r.failed = append(r.failed, fmt.Sprintf("and %d more tasks", n))
		}
		r.allowed = fmt.Sprintf("synth.max_failed %g", opt.MaxFailed)
		msg += fmt.Sprintf("; %d of %d tasks failed after their retries (%s), within synth.max_failed %g: left out, listed in the report; the next run retries them",
			failed, sum.Tasks, sum.Causes(), opt.MaxFailed)
	}
	return msg, nil
}
