package pipelines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/review"
)

// exportStage writes the datasets, one folder per format (and kind).
var exportStage = stage{
	name: "export", format: 2, enabled: func(c *Config) bool { return c.Export.Enabled },
	section: func(c *Config) any { return &c.Export }, doc: "Validate, deduplicate, split and write the datasets.",
	inputs: (*runner).exportInputs, run: (*runner).export,
}

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

func (r *runner) exportInputs(d map[string]string) ([]string, error) {
	d["examples"], _ = hashFile(r.datasetFile())
	d["chatlogs"], _ = hashFile(r.chatlogs())
	d["params"] = hashJSON(r.cfg.Export)
	// People's decisions (tuneline review): a new one re-exports.
	if h, err := hashFile(ReviewPath(r.cfg)); err == nil {
		d["review"] = h
	}
	var outs []string
	for _, x := range r.exports() {
		outs = append(outs, filepath.Join(x.dir, "export-report.json"))
	}
	return outs, nil
}
