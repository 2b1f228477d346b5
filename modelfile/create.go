package modelfile

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tuneline/tuneline/llm"
)

// Result describes a created model.
type Result = llm.Created

// SmokeResult is one question asked of a new model.
type SmokeResult = llm.SmokeResult

// Create makes the model of spec s on the server through the create API
// (see llm.Ollama.Create), after checking the spec.
func Create(ctx context.Context, c *llm.Ollama, name string, s *Spec, progress io.Writer) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	params, err := s.TypedParams()
	if err != nil {
		return nil, err
	}
	req := llm.CreateRequest{Name: name, From: s.From, Adapter: s.Adapter, System: s.System, Template: s.Template, Parameters: params, License: s.License}
	for _, m := range s.Messages {
		req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	res, err := c.Create(ctx, req, progress)
	if err != nil {
		return nil, explain(name, s, err)
	}
	return res, nil
}

// CreateCLI makes the model with `bin create -f` from the rendered
// Modelfile.
func CreateCLI(ctx context.Context, c *llm.Ollama, bin, name string, s *Spec, progress io.Writer) (*Result, error) {
	text, err := s.Render()
	if err != nil {
		return nil, err
	}
	res, err := c.CreateCLI(ctx, bin, name, text, progress)
	if err != nil {
		return nil, explain(name, s, err)
	}
	return res, nil
}

// explain turns server errors into what to do.
func explain(name string, s *Spec, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "pull model manifest") || strings.Contains(msg, "not found"):
		return fmt.Errorf("create %s: base model %q is not on the server — run `ollama pull %s` first, or give a local GGUF file (%v)", name, s.From, s.From, err)
	case strings.Contains(strings.ToLower(msg), "adapter"):
		return fmt.Errorf("create %s: the adapter was refused — it must be a LoRA for the same architecture as %s, in GGUF or safetensors (%v)", name, s.From, err)
	}
	return fmt.Errorf("create %s: %w", name, err)
}
