package modelfile

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tuneline/tuneline/internal/smallfile"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Source describes a model by its parts: a base, a persona file, a dataset
// for few-shot turns, and the Modelfile's other fields as files and
// key=value parameters. The modelfile and create commands and batch entries
// all build specs from it.
type Source struct {
	From        string   // a model name, a local GGUF file or a safetensors folder
	PersonaFile string   // its system prompt becomes SYSTEM
	Dataset     string   // examples to pick MESSAGE few-shot turns from
	Adapter     string   // LoRA adapter: GGUF file or safetensors folder
	Template    string   // TEMPLATE from a file, or "auto" (ChatML when a local GGUF has none)
	License     string   // LICENSE text from a file
	Params      []string // PARAMETER key=value
	Config               // examples, message budget, smoke question
}

// Build makes the spec (checked) and returns the persona it used, if any.
func (src Source) Build(ctx context.Context) (*Spec, *persona.Persona, error) {
	if src.From == "" {
		return nil, nil, fmt.Errorf("FROM is required (a model name, GGUF file or safetensors folder)")
	}
	s := &Spec{From: src.From, Adapter: src.Adapter}
	var p *persona.Persona
	if src.PersonaFile != "" {
		var err error
		if p, err = persona.Load(src.PersonaFile); err != nil {
			return nil, nil, err
		}
		s.System = strings.TrimRight(p.System, "\n")
	}
	for _, kv := range src.Params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, fmt.Errorf("parameter %q: want key=value", kv)
		}
		s.Params = append(s.Params, Param{Name: strings.TrimSpace(k), Value: v})
	}
	switch src.Template {
	case "":
	case "auto":
		need, err := NeedsTemplate(src.From)
		if err != nil {
			return nil, nil, err
		}
		if need {
			s.Template = ChatMLTemplate
		}
	default:
		b, err := smallfile.ReadFile(src.Template, smallfile.Text, "template")
		if err != nil {
			return nil, nil, fmt.Errorf("template: %w", err)
		}
		s.Template = string(b)
	}
	if src.License != "" {
		b, err := smallfile.ReadFile(src.License, smallfile.Text, "licence")
		if err != nil {
			return nil, nil, fmt.Errorf("license: %w", err)
		}
		s.License = []string{strings.TrimRight(string(b), "\n")}
	}
	if src.Dataset != "" {
		msgs, err := FewShot(ctx, src.Dataset, src.Examples, src.MessageTokens)
		if err != nil {
			return nil, nil, err
		}
		s.Messages = msgs
	}
	return s, p, s.Validate()
}

// CreateOptions say how models are created.
type CreateOptions struct {
	// CLI, when set, is the ollama binary to run `create -f` with instead
	// of the create API.
	CLI string
	// NoSmoke skips the question asked of each new model.
	NoSmoke bool
	// Question is the smoke test's question (see Config.Question).
	Question Config
	// Progress receives the server's status lines (may be nil).
	Progress io.Writer
}

// CreateModel creates one model from spec s (persona p, for the smoke
// question) and asks it one question.
func CreateModel(ctx context.Context, client *llm.Ollama, name string, s *Spec, p *persona.Persona, opt CreateOptions) (*Result, error) {
	var res *Result
	var err error
	if opt.CLI != "" {
		if _, lerr := exec.LookPath(opt.CLI); lerr != nil {
			return nil, fmt.Errorf("creating with the ollama command needs it on PATH (%v); use the API instead", lerr)
		}
		res, err = CreateCLI(ctx, client, opt.CLI, name, s, opt.Progress)
	} else {
		res, err = Create(ctx, client, name, s, opt.Progress)
	}
	if err != nil {
		return nil, err
	}
	if !opt.NoSmoke {
		res.Smoke = client.Smoke(ctx, name, opt.Question.Question(p))
	}
	return res, nil
}

// BatchResult is one model of a batch: its result or its error.
type BatchResult struct {
	Name   string  `json:"name"`
	Base   string  `json:"base"`
	Result *Result `json:"result,omitempty"`
	Err    error   `json:"-"`
	Error  string  `json:"error,omitempty"`
}

// CreateBatch creates every entry with at most parallel at a time; one
// failure (a smoke test that fails included) does not stop the others.
// done, when set, is called after each model, one call at a time.
func CreateBatch(ctx context.Context, client *llm.Ollama, entries []BatchEntry, parallel int, opt CreateOptions, done func(BatchResult)) []BatchResult {
	out := make([]BatchResult, len(entries))
	var g errgroup.Group
	g.SetLimit(max(parallel, 1))
	var mu sync.Mutex
	for i, e := range entries {
		g.Go(func() error {
			r := BatchResult{Name: e.Name, Base: e.From}
			src := e.Source()
			s, p, err := src.Build(ctx)
			if err == nil {
				eo := opt
				eo.Progress = nil
				r.Result, err = CreateModel(ctx, client, e.Name, s, p, eo)
			}
			if err == nil && r.Result.Smoke != nil && !r.Result.Smoke.OK {
				err = fmt.Errorf("smoke test: %s", r.Result.Smoke.Error)
				r.Result = nil
			}
			if err != nil {
				r.Err, r.Error = err, err.Error()
			}
			out[i] = r
			if done != nil {
				mu.Lock()
				done(r)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return out
}

// Source is the entry as a model Source, with the create defaults where it
// says nothing.
func (e BatchEntry) Source() Source {
	src := Source{From: e.From, PersonaFile: e.Persona, Dataset: e.Dataset, Adapter: e.Adapter, Template: e.Template, License: e.License, Config: DefaultConfig()}
	if e.Examples > 0 {
		src.Examples = e.Examples
	}
	for _, p := range SortedParams(e.Params) {
		src.Params = append(src.Params, p.Name+"="+p.Value)
	}
	return src
}
