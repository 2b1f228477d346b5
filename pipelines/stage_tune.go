package pipelines

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/tune"
)

// tuneStage runs fine-tuning jobs on OpenAI or Vertex AI from the exports.
var tuneStage = stage{
	name: "tune", format: 1, enabled: tuneEnabled, off: "no base model set (tune.openai_model or tune.vertex_model)",
	section: func(c *Config) any { return &c.Tune }, doc: "After export, tune on OpenAI or Vertex AI and follow the job (off until a base model is set; keys come from the environment, never this file).",
	inputs: (*runner).tuneInputs, run: (*runner).tune,
}

// TuneSection starts tuning jobs on hosted services after export: off
// unless a base model is set. Credentials never go here: OpenAI's key comes
// from OPENAI_API_KEY, Google's from Application Default Credentials.
type TuneSection struct {
	OpenAIModel  string `yaml:"openai_model" flag:"model" help:"base model: the openai export is fine-tuned on OpenAI (tuneline tune openai; key from OPENAI_API_KEY); empty: off"`
	OpenAISuffix string `yaml:"openai_suffix" flag:"suffix" help:"up to 64 characters added to the fine-tuned model's name"`
	VertexModel  string `yaml:"vertex_model" flag:"base-model" help:"base Gemini model: the vertex export is tuned on Vertex AI (tuneline tune vertex); empty: off"`
	Project      string `yaml:"vertex_project" flag:"project" help:"Google Cloud project of the Vertex AI job"`
	Location     string `yaml:"vertex_location" flag:"location" help:"region of the Vertex AI job"`
	Bucket       string `yaml:"vertex_bucket" flag:"bucket" help:"gs://BUCKET/PREFIX the vertex export is uploaded to first"`
	Epochs       int    `yaml:"epochs" flag:"epochs" help:"training epochs (0: the service chooses)"`
	Force        bool   `yaml:"force" flag:"force" help:"tune even on an export of tuneline's tiny random-weight model"`
	// Poll is how often a job is looked at (not part of the job's inputs).
	Poll time.Duration `yaml:"poll" flag:"poll" help:"how often a running job is looked at"`
}

// DefaultTune is the tune section's defaults (off).
func DefaultTune() TuneSection { return TuneSection{Poll: tune.DefaultPoll} }

// jobParams are the section's parameters that make a job (Poll does not).
func jobParams(t TuneSection) string {
	t.Poll = 0
	return hashJSON(t)
}

func tuneEnabled(c *Config) bool { return c.Tune.OpenAIModel != "" || c.Tune.VertexModel != "" }

// TunedJob is a job the tune stage started (never a credential): the inputs
// it was started on, so that a re-run on the same inputs follows it again
// rather than starting a second one.
type TunedJob struct {
	tune.Job
	Inputs string `json:"inputs"`
}

// tuneDirs are the export folders the section tunes on, by service.
func (r *runner) tuneDirs() (map[string]string, error) {
	t := r.cfg.Tune
	dirs := map[string]string{}
	for svc, model := range map[string]string{tune.ServiceOpenAI: t.OpenAIModel, tune.ServiceVertex: t.VertexModel} {
		if model == "" {
			continue
		}
		if !slices.Contains(r.cfg.Export.Formats, svc) {
			return nil, fmt.Errorf("tune: a %s base model is set but export.formats has no %s: add it", svc, svc)
		}
		dirs[svc] = r.exportDir(svc)
	}
	if t.VertexModel != "" && (t.Project == "" || t.Location == "" || t.Bucket == "") {
		return nil, fmt.Errorf("tune.vertex_model is set: tune.vertex_project, tune.vertex_location and tune.vertex_bucket are needed too")
	}
	return dirs, nil
}

func (r *runner) tuneInputs(d map[string]string) ([]string, error) {
	dirs, err := r.tuneDirs()
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		d["export "+rel(r.cfg.dir, dir)] = exportSum(dir)
	}
	d["params"] = jobParams(r.cfg.Tune)
	return nil, nil
}

// tune starts a job on each configured service and follows it to its end;
// each job goes into the manifest as soon as it exists, so that a run
// stopped while following picks the job up again instead of starting
// another.
func (r *runner) tune(ctx context.Context) (string, error) {
	dirs, err := r.tuneDirs()
	if err != nil {
		return "", err
	}
	t := r.cfg.Tune
	var parts []string
	for _, name := range []string{tune.ServiceOpenAI, tune.ServiceVertex} {
		dir, ok := dirs[name]
		if !ok {
			continue
		}
		d := map[string]string{}
		r.tuneInputsOf(name, dir, d)
		key := hashJSON(d)
		var svc tune.Service
		var start func() (tune.Job, error)
		switch name {
		case tune.ServiceOpenAI:
			o, err := tune.NewOpenAI()
			if err != nil {
				return "", err
			}
			svc = o
			start = func() (tune.Job, error) {
				rep, err := tune.ReadExport(dir, name, t.Force)
				if err != nil {
					return tune.Job{}, fmt.Errorf("%w (or set tune.force)", err)
				}
				return o.Start(ctx, dir, rep, tune.OpenAIOptions{Model: t.OpenAIModel, Suffix: t.OpenAISuffix, Epochs: t.Epochs})
			}
		case tune.ServiceVertex:
			v, err := tune.NewVertex(ctx, tune.VertexOptions{Project: t.Project, Location: t.Location, BaseModel: t.VertexModel,
				Epochs: t.Epochs, Bucket: t.Bucket, Force: t.Force, DisplayName: r.cfg.Name})
			if err != nil {
				return "", err
			}
			svc = v
			start = func() (tune.Job, error) { return v.Start(ctx, dir) }
		}
		id := ""
		for _, j := range r.man.Tuned {
			if j.Service == name && j.Inputs == key && (!j.Done || j.Model != "") {
				id = j.ID // started on these inputs before: follow it again
			}
		}
		if id == "" {
			job, err := start()
			if err != nil {
				return "", err
			}
			id = job.ID
			r.man.Tuned = append(slices.DeleteFunc(r.man.Tuned, func(j TunedJob) bool { return j.Service == name }), TunedJob{Job: job, Inputs: key})
			if err := r.saveManifest(); err != nil {
				return "", err
			}
			fmt.Fprintf(r.log, "tune: started %s job %s\n", name, id)
		} else {
			fmt.Fprintf(r.log, "tune: following %s job %s, started before on these inputs\n", name, id)
		}
		obs := &tune.Observer{
			Status:  func(s string) { fmt.Fprintf(r.log, "tune: %s job %s %s\n", name, id, s) },
			Log:     func(m string) { fmt.Fprintf(r.log, "tune: %s: %s\n", name, m) },
			Metrics: func(step, total int, _ float64) { r.progress("tune", step, total) },
		}
		job, err := tune.Follow(ctx, svc, id, t.Poll, obs)
		for i := range r.man.Tuned {
			if r.man.Tuned[i].ID == id {
				r.man.Tuned[i].Job = job
			}
		}
		if err != nil {
			return "", err
		}
		part := name + " " + job.Model
		if job.Endpoint != "" {
			part += " (endpoint " + job.Endpoint + ")"
		}
		parts = append(parts, part)
	}
	return "tuned " + strings.Join(parts, "; "), nil
}

// tuneInputsOf is the detail of one service's job: its export's files and
// the section's parameters.
func (r *runner) tuneInputsOf(name, dir string, d map[string]string) {
	d["export"] = exportSum(dir)
	d["params"] = jobParams(r.cfg.Tune)
	d["service"] = name
}

// exportSum hashes the files of an export folder.
func exportSum(dir string) string {
	files, _ := publish.Files(dir)
	sums := map[string]string{}
	for _, f := range files {
		sums[f], _ = hashFile(filepath.Join(dir, f))
	}
	return hashJSON(sums)
}
