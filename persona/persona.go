// Package persona reads the persona file: who the model speaks as. The same
// persona drives generation (synth), the exported system message and the
// Modelfile's SYSTEM line.
package persona

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tuneline/tuneline/internal/smallfile"
	"github.com/tuneline/tuneline/internal/yamlerr"
	"gopkg.in/yaml.v3"
)

// Example is a question and the persona's answer, showing its voice.
type Example struct {
	Question string `yaml:"question" json:"question"`
	Answer   string `yaml:"answer" json:"answer"`
}

// Persona is the persona file.
type Persona struct {
	// Name identifies the persona ("ada-whitfield").
	Name string `yaml:"name" json:"name"`
	// System is the system prompt the model is trained and run with.
	System string `yaml:"system" json:"system"`
	// Traits, Style and Audience describe the voice for generation.
	Traits   []string  `yaml:"traits,omitempty" json:"traits,omitempty"`
	Style    string    `yaml:"style,omitempty" json:"style,omitempty"`
	Audience string    `yaml:"audience,omitempty" json:"audience,omitempty"`
	Examples []Example `yaml:"examples,omitempty" json:"examples,omitempty"`
}

// Load reads and checks a persona file; errors name the file and line.
func Load(path string) (*Persona, error) {
	b, err := smallfile.ReadFile(path, smallfile.Persona, "persona")
	if err != nil {
		return nil, fmt.Errorf("persona: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		if strings.HasPrefix(err.Error(), "yaml: line ") {
			return nil, fmt.Errorf("persona %w", yamlerr.Error(path, err))
		}
		return nil, fmt.Errorf("persona %s: %w", path, err)
	}
	return p, nil
}

// Parse reads a persona from YAML; unknown keys are errors (a typo would
// otherwise be silently ignored).
func Parse(b []byte) (*Persona, error) {
	var p Persona
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the file is empty: a persona needs at least name and system (tuneline init DIR writes an example)")
		}
		return nil, err
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return nil, fmt.Errorf("name is missing")
	}
	if strings.TrimSpace(p.System) == "" {
		return nil, fmt.Errorf("system is missing: the system prompt the model speaks with")
	}
	for i, e := range p.Examples {
		if strings.TrimSpace(e.Question) == "" || strings.TrimSpace(e.Answer) == "" {
			return nil, fmt.Errorf("examples[%d]: question and answer are both needed", i)
		}
	}
	return &p, nil
}

// Hash identifies the persona's content (for caches and manifests).
func (p *Persona) Hash() string {
	b, _ := yaml.Marshal(p)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Voice describes the persona for a generation prompt.
func (p *Persona) Voice() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Persona: %s\n%s\n", p.Name, strings.TrimSpace(p.System))
	if len(p.Traits) > 0 {
		fmt.Fprintf(&b, "Traits: %s\n", strings.Join(p.Traits, "; "))
	}
	if p.Style != "" {
		fmt.Fprintf(&b, "Style: %s\n", p.Style)
	}
	if p.Audience != "" {
		fmt.Fprintf(&b, "Audience: %s\n", p.Audience)
	}
	for i, e := range p.Examples {
		if i == 3 {
			break
		}
		fmt.Fprintf(&b, "Example question: %s\nExample answer in this voice: %s\n", e.Question, e.Answer)
	}
	return b.String()
}
