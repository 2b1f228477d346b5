package pipelines

import (
	"os"
	"path/filepath"

	"github.com/tuneline/tuneline/format"
)

// Layout names every path of a workspace: the one place that knows where
// a file lies, all of them under the build: folder but for the people's
// review decisions. Commands that read a workspace's outputs (eval's
// default questions, report, datasets, review) ask it too, so that they
// honour build:.
type Layout struct {
	cfg *Config
	// Build is the build folder (build: resolved against the workspace).
	Build string
}

// Layout is c's layout.
func (c *Config) Layout() Layout { return Layout{cfg: c, Build: c.Path(c.Build)} }

func (l Layout) in(parts ...string) string {
	return filepath.Join(append([]string{l.Build}, parts...)...)
}

// Chunks is ingest's chunks file, ChatLogs the chat logs' examples;
// IngestDir keeps one cache file per source (its chunks and examples).
func (l Layout) Chunks() string    { return l.in("chunks.jsonl") }
func (l Layout) ChatLogs() string  { return l.in("chatlog-examples.jsonl") }
func (l Layout) IngestDir() string { return l.in("ingest") }

// Synth is synth's examples, Curated curate's.
func (l Layout) Synth() string   { return l.in("synth.jsonl") }
func (l Layout) Curated() string { return l.in("curated.jsonl") }

// Dataset is the examples the export and the few-shot turns come from: the
// curated ones, else (curate off) the generated ones.
func (l Layout) Dataset() string {
	if l.cfg.Curate.Enabled {
		return l.Curated()
	}
	return l.Synth()
}

// ExportDir is the folder of one export (a format, or
// <format>-preference).
func (l Layout) ExportDir(name string) string { return l.in("export", name) }

// Questions is the validation split of the OpenAI export: eval's held-out
// questions.
func (l Layout) Questions() string {
	return filepath.Join(l.ExportDir(format.TargetOpenAI), "validation.jsonl")
}

// Models is the models the last create made (CreatedModel entries);
// Modelfile the Modelfile of one of them.
func (l Layout) Models() string               { return l.in("models.json") }
func (l Layout) Modelfile(name string) string { return l.in("modelfiles", name+".Modelfile") }

// Eval is the evaluation, Report the HTML report, History the dataset's
// copy per build, Manifest what each stage last saw and wrote, Lock the
// run's lock.
func (l Layout) Eval() string     { return l.in("eval.json") }
func (l Layout) Report() string   { return l.in("report.html") }
func (l Layout) History() string  { return l.in("history") }
func (l Layout) Manifest() string { return l.in("manifest.json") }
func (l Layout) Lock() string     { return l.in(".lock") }

// Cache is a model stage's reply cache; Ollama the folder of tuneline's
// own Ollama server.
func (l Layout) Cache(stage string) string { return l.in("cache", stage) }
func (l Layout) Ollama() string            { return l.in("ollama") }

// Review is the decisions file of `tuneline review`, beside tuneline.yaml
// (people's work, not a build output).
func (l Layout) Review() string { return l.cfg.Path("review.jsonl") }

// questionsFile holds the held-out questions: the validation split of the
// OpenAI export, else the dataset.
func (l Layout) questionsFile() string {
	if _, err := os.Stat(l.Questions()); err == nil {
		return l.Questions()
	}
	return l.Dataset()
}
