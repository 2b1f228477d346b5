package pipelines

import (
	"context"
	"fmt"
	"time"

	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/llm"
)

// ollama finds the server and model to generate with (see
// localollama.Discover), once a run.
func (r *runner) ollama(ctx context.Context) (string, string, error) {
	if r.host != "" {
		return r.host, r.model, nil
	}
	c := r.cfg.Ollama
	dir := r.cfg.Layout().Ollama()
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

// showPool makes the progress lines name the pool's level of parallel
// requests (and why); before a stage opens its pool they name the level
// configured (see modelStep).
func (r *runner) showPool(ctx context.Context, p *llm.Pool) {
	if p != nil {
		llm.ShowStatus(ctx, p.StatusLine)
	}
}

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
