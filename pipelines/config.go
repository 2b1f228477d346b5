// Package pipelines runs tuneline's stages — ingest, synth, curate,
// export, modelfile/create, eval — from one declarative workspace file,
// recording in a manifest the hashes of every stage's inputs, parameters
// and outputs so that a re-run redoes only what changed.
package pipelines

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Config is tuneline.yaml.
type Config struct {
	Name    string   `yaml:"name"`
	Sources []string `yaml:"sources"`
	Persona string   `yaml:"persona"`
	Build   string   `yaml:"build"`
	Ollama  struct {
		Host  string `yaml:"host"`
		Model string `yaml:"model"`
		// Local: "auto" starts the project's own ollama with the tiny
		// random-weight model when no server with Model is reachable;
		// "always" always does; "never" fails instead.
		Local string `yaml:"local"`
	} `yaml:"ollama"`
	Ingest struct {
		ChunkTokens int `yaml:"chunk_tokens"`
		Overlap     int `yaml:"overlap"`
	} `yaml:"ingest"`
	Synth struct {
		Enabled          *bool `yaml:"enabled"`
		Pairs            int   `yaml:"pairs"`
		Conversations    int   `yaml:"conversations"`
		Turns            int   `yaml:"turns"`
		Parallel         int   `yaml:"parallel"`
		MaxQuestionChars int   `yaml:"max_question_chars"`
		MaxAnswerChars   int   `yaml:"max_answer_chars"`
		Seed             int   `yaml:"seed"`
	} `yaml:"synth"`
	Curate struct {
		Enabled  *bool   `yaml:"enabled"`
		MinScore float64 `yaml:"min_score"`
	} `yaml:"curate"`
	Export struct {
		Enabled *bool    `yaml:"enabled"`
		Formats []string `yaml:"formats"`
		Split   float64  `yaml:"split"`
		Seed    uint64   `yaml:"seed"`
		NearDup *float64 `yaml:"near_dup"`
		License string   `yaml:"license"`
	} `yaml:"export"`
	Models []struct {
		Name     string            `yaml:"name"`
		From     string            `yaml:"from"`
		Persona  string            `yaml:"persona"`
		Examples int               `yaml:"examples"`
		Params   map[string]string `yaml:"params"`
	} `yaml:"models"`
	Create struct {
		Enabled *bool `yaml:"enabled"`
	} `yaml:"create"`
	Eval struct {
		Enabled   *bool `yaml:"enabled"`
		Questions int   `yaml:"questions"`
		Baseline  *bool `yaml:"baseline"`
	} `yaml:"eval"`

	dir string
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

func on(b *bool) bool { return b == nil || *b }

// Load reads tuneline.yaml (path may be the workspace folder).
func Load(path string) (*Config, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tuneline.yaml")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w (create one with tuneline init DIR)", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
	if c.Build == "" {
		c.Build = "build"
	}
	if c.Ollama.Local == "" {
		c.Ollama.Local = "auto"
	}
	if c.Ingest.ChunkTokens == 0 {
		c.Ingest.ChunkTokens = 400
	}
	if c.Synth.Parallel == 0 {
		c.Synth.Parallel = 2
	}
	if c.Synth.Seed == 0 {
		c.Synth.Seed = 1
	}
	if len(c.Export.Formats) == 0 {
		c.Export.Formats = []string{"openai", "hf"}
	}
	if c.Export.Split == 0 {
		c.Export.Split = 0.9
	}
	if c.Export.Seed == 0 {
		c.Export.Seed = 42
	}
	if c.Export.NearDup == nil {
		v := 0.8
		c.Export.NearDup = &v
	}
	return &c, nil
}
