package pipelines

import (
	"github.com/tuneline/tuneline/eval"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

// The workspace assembles each model stage from its section exactly as the
// stage's command assembles it from its flags: through the one function
// the stage's package exports (synth.Config.Options,
// synth.CurateConfig.Options, eval.Config.Plan, modelfile.Source.Build),
// adding only the workspace's paths. cmd/tuneline's front-end test builds
// the same settings as flags and as tuneline.yaml and compares the results.

// At is the model server configuration a stage opens once discovery found
// host (see localollama.Discover): that server when one Ollama server is
// configured, else the servers configured (hosts, or an OpenAI-compatible
// base URL, which are not discovered).
func (s Server) At(host string) llm.Config {
	c := s.Config
	if c.OllamaHosts() && len(c.Hosts) <= 1 {
		c.Hosts = []string{host}
	}
	return c
}

// SynthOptions is what the synth stage runs, generating with model
// through b in persona p's voice.
func (c *Config) SynthOptions(model string, p *persona.Persona, b llm.Backend) synth.Options {
	o := c.Synth.Options(c.Ollama.Config, model, p, b)
	o.CacheDir = c.Layout().Cache("synth")
	return o
}

// CurateOptions is what the curate stage runs, judging with model through
// b against persona p and the chunks file.
func (c *Config) CurateOptions(model, chunks string, p *persona.Persona, b llm.Backend) synth.CurateOptions {
	o := c.Curate.Options(c.Ollama.Config, model, p, b)
	if chunks != "" {
		o.Chunks = []string{chunks}
	}
	o.CacheDir = c.Layout().Cache("curate")
	return o
}

// EvalPlan is what the eval stage runs: the workspace's models and, with
// eval.baseline, base (the generation model) with persona p's system
// prompt, asked through b.
func (c *Config) EvalPlan(base string, p *persona.Persona, b llm.Backend) ([]eval.Target, eval.Options) {
	var models []string
	for _, m := range c.Models {
		models = append(models, m.Name)
	}
	baseline := ""
	if c.Eval.Baseline {
		baseline = base
	}
	targets, o := c.Eval.Plan(c.Ollama.Config, models, baseline, p, b)
	o.CacheDir = c.Layout().Cache("eval")
	return targets, o
}

// ModelSource describes model m as the modelfile and create commands'
// flags do: its base (base when it names none), its persona (the
// workspace's when it names none), few-shot turns from dataset, its
// parameters, and the create section. Its Build is the model's spec.
func (c *Config) ModelSource(m Model, base, dataset string) modelfile.Source {
	src := modelfile.Source{From: m.From, PersonaFile: c.Path(c.Persona), Dataset: dataset, Config: c.Create.Config}
	if src.From == "" {
		src.From = base
	}
	if m.Persona != "" {
		src.PersonaFile = c.Path(m.Persona)
	}
	if m.Examples != 0 {
		src.Examples = m.Examples
	}
	for _, p := range modelfile.SortedParams(m.Params) {
		src.Params = append(src.Params, p.Name+"="+p.Value)
	}
	return src
}
