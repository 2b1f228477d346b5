// Package pipelines runs tuneline's stages — ingest, synth, curate,
// export, modelfile/create, eval — from one declarative workspace file,
// recording in a manifest the hashes of every stage's inputs, parameters
// and outputs so that a re-run redoes only what changed.
package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/tuneline/tuneline/eval"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/smallfile"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
	"github.com/tuneline/tuneline/synth"
)

// Config is tuneline.yaml. Each stage's section is that stage's own Config
// (the struct its CLI flags fill too), plus `enabled` where a stage can be
// switched off; DefaultConfig holds every default, and Load decodes the
// file over it.
type Config struct {
	Name    string         `yaml:"name"`
	Sources []string       `yaml:"sources"`
	Persona string         `yaml:"persona"`
	Build   string         `yaml:"build"`
	Ollama  Server         `yaml:"ollama"`
	Ingest  ingest.Config  `yaml:"ingest"`
	Synth   SynthSection   `yaml:"synth"`
	Curate  CurateSection  `yaml:"curate"`
	Export  ExportSection  `yaml:"export"`
	Create  CreateSection  `yaml:"create"`
	Models  []Model        `yaml:"models"`
	Eval    EvalSection    `yaml:"eval"`
	Publish PublishSection `yaml:"publish"`
	Tune    TuneSection    `yaml:"tune"`

	dir string
}

// Server is the model server section: llm.Config and whether tuneline
// may start its own Ollama.
type Server struct {
	llm.Config `yaml:",inline"`
	// Local: "auto" starts the project's own ollama with the tiny
	// random-weight model when no server with Model is reachable;
	// "always" always does; "never" fails instead.
	Local string `yaml:"local" help:"auto: start tuneline's own Ollama with a tiny random-weight model (gibberish, but the pipeline runs) when no server has the model; always; never"`
}

// SynthSection is synth's Config and its switch.
type SynthSection struct {
	Enabled      bool `yaml:"enabled" help:"run this stage (false: switch it off)"`
	synth.Config `yaml:",inline"`
}

// CurateSection is curate's Config and its switch.
type CurateSection struct {
	Enabled            bool `yaml:"enabled" help:"run this stage (false: switch it off)"`
	synth.CurateConfig `yaml:",inline"`
}

// ExportSection is the export's Config, the formats written, and its
// switch.
type ExportSection struct {
	Enabled       bool     `yaml:"enabled" help:"run this stage (false: switch it off)"`
	Formats       []string `yaml:"formats" help:"openai, sharegpt, alpaca, vertex, hf (one folder each under build/export/)"`
	format.Config `yaml:",inline"`
}

// CreateSection is the create stage's Config and its switch.
type CreateSection struct {
	Enabled          bool `yaml:"enabled" help:"run this stage (false: switch it off)"`
	modelfile.Config `yaml:",inline"`
}

// EvalSection is eval's Config, whether to ask the baseline, and the
// switch.
type EvalSection struct {
	Enabled     bool `yaml:"enabled" help:"run this stage (false: switch it off)"`
	Baseline    bool `yaml:"baseline" help:"also ask the base model with the persona as its system prompt"`
	eval.Config `yaml:",inline"`
}

// Model is one model to create.
type Model struct {
	Name     string            `yaml:"name"`
	From     string            `yaml:"from"`
	Persona  string            `yaml:"persona"`
	Examples int               `yaml:"examples"`
	Params   map[string]string `yaml:"params"`
}

// DefaultConfig is a workspace with every default.
func DefaultConfig() Config {
	return Config{
		Build:   "build",
		Ollama:  Server{Config: llm.DefaultConfig(), Local: "auto"},
		Ingest:  ingest.DefaultConfig(),
		Synth:   SynthSection{Enabled: true, Config: synth.DefaultConfig()},
		Curate:  CurateSection{Enabled: true, CurateConfig: synth.DefaultCurateConfig()},
		Export:  ExportSection{Enabled: true, Formats: []string{format.TargetOpenAI, format.TargetHF}, Config: format.DefaultConfig()},
		Create:  CreateSection{Enabled: true, Config: modelfile.DefaultConfig()},
		Eval:    EvalSection{Enabled: true, Baseline: true, Config: eval.DefaultConfig()},
		Publish: DefaultPublish(),
		Tune:    DefaultTune(),
	}
}

// Dir is the workspace folder.
func (c *Config) Dir() string { return c.dir }

// Path resolves a workspace-relative path.
func (c *Config) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Load reads tuneline.yaml (path may be the workspace folder) over the
// defaults.
func Load(path string) (*Config, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tuneline.yaml")
	}
	b, err := smallfile.ReadFile(path, smallfile.Config, "workspace file")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w (create one with tuneline init DIR)", err)
	}
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty (tuneline init DIR writes one with every key)", path)
		}
		return nil, explainYAML(path, err)
	}
	c.dir = filepath.Dir(path)
	if c.Name == "" {
		c.Name = filepath.Base(c.dir)
	}
	if len(c.Sources) == 0 {
		return nil, fmt.Errorf("%s: sources is empty", path)
	}
	if c.Persona == "" {
		return nil, fmt.Errorf("%s: persona is missing", path)
	}
	if c.Ollama.APIKey == "" {
		c.Ollama.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	return &c, nil
}
