package pipelines

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/synth"
)

// curateStage scores the generated examples and keeps the good ones.
var curateStage = stage{
	name: "curate", format: 1, model: true, enabled: func(c *Config) bool { return c.Curate.Enabled },
	section: func(c *Config) any { return &c.Curate }, doc: "An LLM judge scores every example.",
	inputs: (*runner).curateInputs, run: (*runner).curate,
}

func (r *runner) curateInputs(d map[string]string) ([]string, error) {
	d["examples"], _ = hashFile(r.synthOut())
	d["chunks"], _ = hashFile(r.chunks())
	d["persona"] = r.persona.Hash()
	d["model"] = serverKey(r.cfg.Ollama)
	d["params"] = hashJSON(r.cfg.Curate)
	return []string{r.curated()}, nil
}

func (r *runner) curate(ctx context.Context) (string, error) {
	b, model, err := r.backend(ctx)
	if err != nil {
		return "", err
	}
	f, err := datasets.CreateAtomic(r.curated())
	if err != nil {
		return "", err
	}
	defer f.Abort()
	total, _ := datasets.CountLines(r.synthOut()) // for progress only: Curate reports a bad file
	r.progress("curate", 0, total)                // the share from the start, not from the first score
	opt := r.cfg.CurateOptions(model, r.chunks(), r.persona, b)
	opt.Progress = func(done int) { r.progress("curate", done, total) }
	sum, err := synth.Curate(ctx, r.synthOut(), opt, f)
	if err != nil {
		return "", err
	}
	if err := f.Commit(); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%d scored, %d kept (overall mean %.2f)", sum.Scored, sum.Kept, sum.Mean["overall"])
	if sum.Pairs > 0 {
		msg += fmt.Sprintf("; %d preference pairs judged, %d left out (the judge preferred the rejected reply)", sum.Pairs, sum.PairsDisagreed)
	}
	if n, causes := failures(sum.Failures); n > 0 {
		// Left out of the curated file: say so (the summary read "10 scored,
		// 10 kept" of 18), list them (log, manifest, report) and retry
		// them next run. The run still succeeds: a small model's judge
		// (the tiny test model's always) leaves some unscored.
		why := fmt.Sprintf("%d of %d examples could not be scored after their retries (%s)", n, sum.Examples, causes)
		msg += "; " + why + ": left out; the next run retries them"
		r.failed = append(r.failed, why)
		r.allowed = "curate: an unscored example is left out"
	}
	return msg, nil
}

// failures counts a summary's failures and words them by cause.
func failures(by map[string]int) (int, string) {
	n := 0
	var causes []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		n += by[k]
		causes = append(causes, fmt.Sprintf("%s %d", k, by[k]))
	}
	return n, strings.Join(causes, ", ")
}
