package pipelines

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/localollama"
	"github.com/tuneline/tuneline/synth"
)

// ollama finds the server and model to generate with (see
// localollama.Discover), once a run.
func (r *runner) ollama(ctx context.Context) (string, string, error) {
	if r.host != "" {
		return r.host, r.model, nil
	}
	c := r.cfg.Ollama
	dir := filepath.Join(r.build, "ollama")
	f, err := localollama.Discover(ctx, c.FirstHost(), c.Model, c.Local, dir, r.log)
	if err != nil {
		return "", "", fmt.Errorf("ollama: %w", err)
	}
	r.host, r.model, r.local = f.Host, f.Model, f.Server
	if f.Server != nil {
		r.res.LocalOllama = localollama.ModelsDir(dir)
		r.res.Gibberish = true
	}
	return r.host, r.model, nil
}

// backend is the generation backend and model of this run: the servers of
// ollama.hosts (or the OpenAI-compatible server of api: openai), else the
// Ollama found (or started) by ollama, as a pool that measures each
// server's parallelism (ollama.parallel: auto) or uses the number given.
func (r *runner) backend(ctx context.Context) (*llm.Pool, string, error) {
	sc := r.cfg.Ollama
	if !sc.OllamaHosts() || len(sc.Hosts) > 1 {
		if sc.Model == "" {
			return nil, "", fmt.Errorf("ollama.model: name the model served at %s", sc.Where())
		}
		p, err := llm.Open(sc.Config)
		r.showPool(ctx, p)
		return p, sc.Model, err
	}
	host, model, err := r.ollama(ctx)
	if err != nil {
		return nil, "", err
	}
	p, err := llm.Open(sc.At(host))
	r.showPool(ctx, p)
	return p, model, err
}

// evalBackend is the server the run's models were created on.
func (r *runner) evalBackend(ctx context.Context) (*llm.Pool, string, error) {
	if !r.cfg.Ollama.OllamaHosts() {
		return r.backend(ctx)
	}
	host, model, err := r.ollama(ctx)
	if err != nil {
		return nil, "", err
	}
	sc := r.cfg.Ollama
	sc.Hosts = []string{host}
	p, err := llm.Open(sc.Config)
	r.showPool(ctx, p)
	return p, model, err
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
	return msg, nil
}

// showPool makes the progress lines name the pool's level of parallel
// requests (and why); before a stage opens its pool they name the level
// configured (see modelStep).
func (r *runner) showPool(ctx context.Context, p *llm.Pool) {
	if p != nil {
		llm.ShowStatus(ctx, p.StatusLine)
	}
}

// modelStages talk to a model server.
var modelStages = map[string]bool{"synth": true, "curate": true, "create": true, "eval": true}

// modelStep readies the model server before a stage that needs one, as a
// step of its own: finding it, and when tuneline starts its own Ollama,
// building it (once, minutes) and the tiny model. Its time is its own, not
// the stage's (it made synth's time and ETA look many times too long). The
// stage's progress lines name the level of parallel requests from here on.
func (r *runner) modelStep(ctx context.Context) error {
	llm.ShowStatus(ctx, func() string { return "parallel " + r.cfg.Ollama.Parallel + " (no request yet)" })
	sc := r.cfg.Ollama
	if r.host != "" || sc.API == llm.APIOpenAI || len(sc.Hosts) > 1 {
		return nil // found already, or no discovery: backend opens the servers named
	}
	start := time.Now()
	r.progress("ollama", 0, 0)
	if _, _, err := r.ollama(ctx); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if r.local == nil {
		return nil // the configured server answered: nothing worth a step
	}
	summary := "tuneline's own Ollama with the tiny random-weight model"
	fmt.Fprintf(r.log, "%-8s ready in %.1f s: %s\n", "ollama", secs, summary)
	r.res.Stages = append(r.res.Stages, StageResult{Stage: "ollama", Action: "ran", Reason: "no server had the configured model", Seconds: secs, Summary: summary})
	return nil
}
