package synth

import (
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Options is what Run runs for this section, generating with model on
// backend b (the server's timeout from srv) in persona p's voice: the one
// assembly the synth command and the workspace's synth stage both call,
// adding only paths (CacheDir) and progress. Parallel is the backend's
// number of workers (a pool's level per server, or a batch engine's).
func (c Config) Options(srv llm.Config, model string, p *persona.Persona, b llm.Backend) Options {
	o := Options{Model: model, Persona: p, Backend: b, Parallel: llm.Workers(b), Timeout: srv.Timeout}
	c.Apply(&o)
	return o
}

// Apply sets the options c describes.
func (c CurateConfig) Apply(o *CurateOptions) { o.MinScore = c.MinScore }

// Options is what Curate runs for this section, judging with model on
// backend b (the server's timeout from srv), against persona p (may be
// nil): the one assembly the curate command and the workspace's curate
// stage both call, adding only paths (Chunks, CacheDir) and progress.
func (c CurateConfig) Options(srv llm.Config, model string, p *persona.Persona, b llm.Backend) CurateOptions {
	o := CurateOptions{Model: model, Persona: p, Backend: b, Parallel: llm.Workers(b), Timeout: srv.Timeout}
	c.Apply(&o)
	return o
}
