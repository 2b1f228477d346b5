package pipelines

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/publish/gcs"
	"github.com/tuneline/tuneline/publish/hf"
)

// publishStage pushes the exports to the Hugging Face Hub or a bucket.
var publishStage = stage{
	name: "publish", format: 1, enabled: publishEnabled, off: "no destination set (publish.hf_repo or publish.gcs)",
	section: func(c *Config) any { return &c.Publish }, doc: "After export, push exports to the Hugging Face Hub or Cloud Storage (off until a destination is set; tokens come from the environment, never this file).",
	inputs: (*runner).publishInputs, run: (*runner).publish,
}

// PublishSection says where the exports go after export: off unless a
// destination is set. Credentials never go here: the Hub token comes from
// HF_TOKEN or huggingface_hub's token file, Cloud Storage's from
// Application Default Credentials.
type PublishSection struct {
	HFRepo     string `yaml:"hf_repo" help:"NAMESPACE/NAME: the hf export becomes this Hub dataset repo (tuneline publish hf); empty: off"`
	HFPrivate  bool   `yaml:"hf_private" flag:"private" help:"create the Hub repo private"`
	HFRevision string `yaml:"hf_revision" flag:"revision" help:"Hub branch to commit to (created from main when missing)"`
	GCS        string `yaml:"gcs" help:"gs://BUCKET/PREFIX: an export is uploaded here (tuneline publish gcs); empty: off"`
	GCSFormat  string `yaml:"gcs_format" help:"which export goes to gcs"`
	Force      bool   `yaml:"force" flag:"force" help:"publish even an export of tuneline's tiny random-weight model (gibberish), or a folder without export-report.json"`
}

// DefaultPublish is the publish section's defaults (off).
func DefaultPublish() PublishSection {
	return PublishSection{HFRevision: "main", GCSFormat: format.TargetVertex}
}

func publishEnabled(c *Config) bool { return c.Publish.HFRepo != "" || c.Publish.GCS != "" }

// Published is what the manifest keeps of the last publish: what is where
// (never a credential).
type Published struct {
	HF  *PublishedHF  `json:"hf,omitempty"`
	GCS *PublishedGCS `json:"gcs,omitempty"`
}

// PublishedHF is the Hub repo and the commit holding the hf export.
type PublishedHF struct {
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
	URL      string `json:"url"`
}

// PublishedGCS is the objects holding the export, with their generations.
type PublishedGCS struct {
	URL     string       `json:"url"`
	Objects []gcs.Object `json:"objects"`
}

// publishDirs are the export folders the section sends, by destination.
func (r *runner) publishDirs() (hfDir, gcsDir string, err error) {
	p := r.cfg.Publish
	if p.HFRepo != "" {
		if !slices.Contains(r.cfg.Export.Formats, format.TargetHF) {
			return "", "", fmt.Errorf("publish.hf_repo is set but export.formats has no hf: add hf to export.formats")
		}
		hfDir = r.exportDir(format.TargetHF)
	}
	if p.GCS != "" {
		if _, _, err := gcs.ParseURL(p.GCS); err != nil {
			return "", "", fmt.Errorf("publish.gcs: %w", err)
		}
		if !slices.Contains(r.cfg.Export.Formats, p.GCSFormat) {
			return "", "", fmt.Errorf("publish.gcs_format is %s but export.formats has no %s: add it, or set gcs_format to one of %s", p.GCSFormat, p.GCSFormat, strings.Join(r.cfg.Export.Formats, ", "))
		}
		gcsDir = r.exportDir(p.GCSFormat)
	}
	return hfDir, gcsDir, nil
}

func (r *runner) publishInputs(d map[string]string) ([]string, error) {
	hfDir, gcsDir, err := r.publishDirs()
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{hfDir, gcsDir} {
		if dir == "" {
			continue
		}
		files, _ := publish.Files(dir)
		sums := map[string]string{}
		for _, f := range files {
			sums[f], _ = hashFile(filepath.Join(dir, f))
		}
		d["export "+rel(r.cfg.dir, dir)] = hashJSON(sums)
	}
	d["params"] = hashJSON(r.cfg.Publish)
	return nil, nil
}

func (r *runner) publish(ctx context.Context) (string, error) {
	p := r.cfg.Publish
	hfDir, gcsDir, err := r.publishDirs()
	if err != nil {
		return "", err
	}
	progress := func(done, total int64) { r.progress("publish", int(done), int(total)) }
	rec := &Published{}
	var parts []string
	if hfDir != "" {
		if _, err := publish.CheckExport(hfDir, p.Force); err != nil {
			return "", fmt.Errorf("%w (or set publish.force)", err)
		}
		res, err := hf.Publish(ctx, p.HFRepo, hfDir, hf.Options{Private: p.HFPrivate, Revision: p.HFRevision, Log: r.log, Progress: progress,
			Message: fmt.Sprintf("Upload %s dataset (tuneline %s)", r.cfg.Name, r.opt.Version)})
		if err != nil {
			return "", fmt.Errorf("publish hf %s: %w", p.HFRepo, err)
		}
		rec.HF = &PublishedHF{Repo: res.Repo, Revision: res.Revision, Commit: res.Commit, URL: res.URL(hf.Endpoint())}
		state := "unchanged"
		if res.Committed {
			state = fmt.Sprintf("%d files sent", res.Uploaded)
		}
		parts = append(parts, fmt.Sprintf("hf %s@%.12s (%s)", res.Repo, res.Commit, state))
	}
	if gcsDir != "" {
		if _, err := publish.CheckExport(gcsDir, p.Force); err != nil {
			return "", fmt.Errorf("%w (or set publish.force)", err)
		}
		res, err := gcs.UploadDir(ctx, p.GCS, gcsDir, gcs.Options{Progress: progress})
		if err != nil {
			return "", fmt.Errorf("publish gcs %s: %w", p.GCS, err)
		}
		rec.GCS = &PublishedGCS{URL: p.GCS, Objects: res.Objects}
		parts = append(parts, fmt.Sprintf("gcs %s (%d uploaded, %d unchanged)", p.GCS, res.Uploaded, res.Unchanged))
	}
	r.man.Published = rec
	return strings.Join(parts, "; "), nil
}

// PublishedTo reads what the last run published (nil when nothing).
func PublishedTo(cfg *Config) *Published { return ReadManifest(cfg).Published }
