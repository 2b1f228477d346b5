package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
	"github.com/tuneline/tuneline/review"
)

func (r *runner) export(ctx context.Context) (string, error) {
	inputs := []string{r.datasetFile()}
	if st, err := os.Stat(r.chatlogs()); err == nil && st.Size() > 0 {
		inputs = append(inputs, r.chatlogs())
	}
	// People's decisions (tuneline review) apply between curate and
	// export: rejected examples are left out, edited ones exported.
	decisions, err := review.Load(ReviewPath(r.cfg))
	if err != nil {
		return "", err
	}
	for _, w := range decisions.Warnings {
		fmt.Fprintln(r.log, "warning: "+w)
	}
	var parts []string
	var reviewed map[string]int
	for _, x := range r.exports() {
		f := x.format
		opt := format.Options{Target: f, OutDir: x.dir, Name: r.cfg.Name, Version: r.opt.Version, BaseDir: r.cfg.dir}
		r.cfg.Export.Apply(&opt)
		opt.Kind = x.kind
		opt.RandomModel = r.man.TinyModel
		if decisions.Len() > 0 {
			opt.Review = decisions.Apply
		}
		name := filepath.Base(x.dir)
		rep, err := format.Export(ctx, inputs, opt)
		if err != nil {
			return "", fmt.Errorf("export %s: %w", name, err)
		}
		if rep.Written == 0 {
			return "", fmt.Errorf("export %s: no example was written: all %d read were left out (see %s)", name, rep.Read, rel(r.cfg.dir, filepath.Join(x.dir, "export-report.json")))
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, rep.Written))
		if rep.Review != nil && reviewed == nil {
			reviewed = rep.Review
		}
	}
	sum := "examples written: " + strings.Join(parts, ", ")
	if reviewed != nil {
		sum += fmt.Sprintf(" (review: %d rejected, %d edited, %d accepted)", reviewed[review.StateRejected], reviewed[review.StateEdited], reviewed[review.StateAccepted])
	}
	return sum, nil
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
		mf := filepath.Join(r.build, "modelfiles", m.Name+".Modelfile")
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
	if err := datasets.WriteFileAtomic(filepath.Join(r.build, "models.json"), append(b, '\n')); err != nil {
		return "", err
	}
	return "created " + strings.Join(names, ", "), nil
}
