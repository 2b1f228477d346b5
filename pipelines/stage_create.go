package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
)

// createStage creates the workspace's models on the Ollama server and
// smoke-tests them.
var createStage = stage{
	name: "create", format: 1, model: true, enabled: func(c *Config) bool { return c.Create.Enabled && len(c.Models) > 0 },
	section: func(c *Config) any { return &c.Create }, doc: "Ollama models with the persona and few-shot examples.", scaffold: scaffoldModels,
	inputs: (*runner).createInputs, run: (*runner).create,
}

// CreatedModel is one entry of build/models.json.
type CreatedModel struct {
	Name   string                 `json:"name"`
	From   string                 `json:"from"`
	Host   string                 `json:"host,omitempty"` // the server it was created on (none for tuneline's own)
	Result *modelfile.Result      `json:"result"`
	Smoke  *modelfile.SmokeResult `json:"smoke"`
	// ModelsDir is the models folder of tuneline's own Ollama when the
	// model was created there (see NextSteps for serving it).
	ModelsDir string `json:"models_dir,omitempty"`
}

func (r *runner) createInputs(d map[string]string) ([]string, error) {
	d["examples"], _ = hashFile(r.datasetFile())
	d["persona"] = r.persona.Hash()
	d["models"] = hashJSON(r.cfg.Models)
	d["params"] = hashJSON(r.cfg.Create)
	d["base"] = serverKey(r.cfg.Ollama)
	return []string{r.cfg.Layout().Models()}, nil
}

func (r *runner) create(ctx context.Context) (string, error) {
	host, model, err := r.ollama(ctx)
	if err != nil {
		return "", err
	}
	client, err := llm.NewOllama(host)
	if err != nil {
		return "", err
	}
	var out []CreatedModel
	var names []string
	for _, m := range r.cfg.Models {
		src := r.cfg.ModelSource(m, model, r.datasetFile())
		if r.res.Gibberish {
			src.From = model // the tiny model when tuneline runs its own server
		}
		from := src.From
		spec, p, err := src.Build(ctx)
		if err != nil {
			return "", fmt.Errorf("model %s: %w", m.Name, err)
		}
		res, err := modelfile.CreateModel(ctx, client, m.Name, spec, p, modelfile.CreateOptions{Question: r.cfg.Create.Config})
		if err != nil {
			return "", err
		}
		smoke := res.Smoke
		if !smoke.OK {
			return "", fmt.Errorf("model %s: smoke test failed: %s", m.Name, smoke.Error)
		}
		cm := CreatedModel{Name: m.Name, From: from, Host: host, Result: res, Smoke: smoke}
		if r.local != nil {
			cm.ModelsDir, cm.Host = r.res.LocalOllama, "" // its port dies with the run
		}
		out = append(out, cm)
		mf := r.cfg.Layout().Modelfile(m.Name)
		text, err := spec.Render()
		if err != nil {
			// Said in the summary too: the file holds only this comment.
			why := strings.ReplaceAll(err.Error(), "\n", " ")
			text = "# This model cannot be written as a Modelfile; it was created through the API.\n# " + why + "\n"
			short := why
			if ue := (*modelfile.UnwritableError)(nil); errors.As(err, &ue) {
				short = ue.Field + " " + ue.Reason
			}
			names = append(names, fmt.Sprintf("%s (%.1f MB; no Modelfile: %s, so %s holds only a comment)", m.Name, float64(res.Size)/1e6, short, rel(r.cfg.dir, mf)))
		} else {
			names = append(names, fmt.Sprintf("%s (%.1f MB)", m.Name, float64(res.Size)/1e6))
		}
		if err := datasets.WriteFileAtomic(mf, []byte(text)); err != nil {
			return "", err
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := datasets.WriteFileAtomic(r.cfg.Layout().Models(), append(b, '\n')); err != nil {
		return "", err
	}
	return "created " + strings.Join(names, ", "), nil
}

// scaffoldModels writes the scaffold's models list, after the create
// section.
func scaffoldModels(b io.Writer, opt InitOptions) {
	fmt.Fprintf(b, `
# Models to create (through Ollama's API) and smoke-test: name, from (a model
# name, GGUF file or safetensors folder), optional persona, examples (0: the
# create section's) and Modelfile PARAMETERs.
models:
  - name: %q
    from: %q
    params:
      temperature: "0.6"
`, opt.Name, opt.Model)
}
