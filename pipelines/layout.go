package pipelines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/report"
)

// ReportPath is where run writes the HTML report.
func ReportPath(cfg *Config) string { return cfg.Layout().Report() }

// WriteReport renders the workspace's report.
func WriteReport(ctx context.Context, cfg *Config, path, version string) error {
	f := WorkspaceFiles(cfg)
	// A partial build reports what it has: the curated examples, else the
	// generated ones, else those of the chat logs.
	dataset := ""
	for _, p := range []string{f.Dataset, f.Synth, f.ChatLogs} {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			dataset = p
			break
		}
	}
	if dataset == "" {
		return fmt.Errorf("report: no examples yet in %s: run the ingest and synth stages first (tuneline run)", rel(cfg.dir, cfg.Path(cfg.Build)))
	}
	man := ReadManifest(cfg)
	in := report.Inputs{Title: cfg.Name, Dataset: dataset, Chunks: f.Chunks, GeneratedBy: "tuneline " + version, TinyModel: man.TinyModel}
	for _, st := range Stages {
		if rec := man.Stages[st]; rec != nil {
			for _, x := range rec.Failed {
				in.Failed = append(in.Failed, report.Failed{Stage: st, What: x})
			}
		}
	}
	// The exported dataset is the generated examples and the chat logs'
	// together: the report counts both, so that its numbers agree with the
	// export's and every source shows.
	if dataset != f.ChatLogs {
		if st, err := os.Stat(f.ChatLogs); err == nil && st.Size() > 0 {
			in.More = []string{f.ChatLogs}
		}
	}
	if dataset != f.Synth {
		if _, err := os.Stat(f.Synth); err == nil {
			in.Synth = f.Synth
		}
	}
	if len(f.Exports) > 0 {
		in.ExportDir = f.Exports[0]
	}
	if _, err := os.Stat(EvalPath(cfg)); err == nil {
		in.Eval = EvalPath(cfg)
	}
	d, err := report.Collect(ctx, in)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return report.WriteFile(path, d)
}

// HistoryDir holds one copy of the dataset per distinct build, named
// TIME-HASH.jsonl, for `tuneline datasets list|diff`.
func HistoryDir(cfg *Config) string { return cfg.Layout().History() }

// snapshot keeps the dataset of this build when it differs from the last
// one kept.
func (r *runner) snapshot() error {
	src := r.datasetFile()
	h, err := hashFile(src)
	if err != nil {
		return nil // no dataset yet
	}
	dir := HistoryDir(r.cfg)
	old, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(old)
	if len(old) > 0 && strings.HasSuffix(old[len(old)-1], "-"+h+".jsonl") {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	name := time.Now().UTC().Format("20060102T150405Z") + "-" + h + ".jsonl"
	return datasets.WriteFileAtomic(filepath.Join(dir, name), b)
}

// Files are the workspace's dataset files, for the datasets command.
type Files struct {
	Chunks, Synth, Curated, ChatLogs, Dataset string
	Exports                                   []string
}

// WorkspaceFiles names a workspace's outputs.
func WorkspaceFiles(cfg *Config) Files {
	r := &runner{cfg: cfg, build: cfg.Path(cfg.Build)}
	f := Files{Chunks: r.chunks(), Synth: r.synthOut(), Curated: r.curated(), ChatLogs: r.chatlogs(), Dataset: r.datasetFile()}
	for _, x := range r.exports() {
		f.Exports = append(f.Exports, x.dir)
	}
	return f
}

// exportJob is one export of the workspace: a format, the kind of data
// and its folder.
type exportJob struct {
	format, kind, dir string
}

// exports lists the workspace's exports. When synth makes preference pairs
// and the kind is auto, each format gets a chat export (the Q&A and
// conversations, with the pairs' chosen replies left to the preference
// export) and a preference export in <format>-preference, for the formats
// that hold pairs.
func (r *runner) exports() []exportJob {
	var out []exportJob
	both := r.cfg.Export.Kind == format.KindAuto && r.cfg.Synth.Enabled && r.cfg.Synth.Preferences > 0
	for _, f := range r.cfg.Export.Formats {
		if !both {
			out = append(out, exportJob{f, r.cfg.Export.Kind, r.exportDir(f)})
			continue
		}
		out = append(out, exportJob{f, format.KindChat, r.exportDir(f)})
		if t, err := format.Lookup(f); err == nil && t.Holds.Pairs {
			out = append(out, exportJob{f, format.KindPreference, r.exportDir(f + "-preference")})
		}
	}
	return out
}

// Output paths (see Layout).
func (r *runner) chunks() string            { return r.cfg.Layout().Chunks() }
func (r *runner) chatlogs() string          { return r.cfg.Layout().ChatLogs() }
func (r *runner) synthOut() string          { return r.cfg.Layout().Synth() }
func (r *runner) curated() string           { return r.cfg.Layout().Curated() }
func (r *runner) exportDir(f string) string { return r.cfg.Layout().ExportDir(f) }

// sourceFiles expands the configured sources.
func (r *runner) sourceFiles() ([]string, error) {
	var srcs, missing []string
	for _, s := range r.cfg.Sources {
		if remoteSource(s) {
			srcs = append(srcs, s)
			continue
		}
		p := r.cfg.Path(s)
		srcs = append(srcs, p)
		// Every missing entry is named at once, with its line.
		if m, _ := filepath.Glob(p); len(m) == 0 {
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, fmt.Sprintf("%s: source %q: no such file or folder", r.cfg.yamlLine(s), s))
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%d of %d sources are missing:\n  %s", len(missing), len(r.cfg.Sources), strings.Join(missing, "\n  "))
	}
	files, skipped, err := ingest.Expand(srcs)
	r.skipped = skipped
	return files, err
}

// yamlLine is "tuneline.yaml:LINE" of the first line that holds text (the
// file alone when none does).
func (c *Config) yamlLine(text string) string {
	name := filepath.Join(c.dir, "tuneline.yaml")
	b, err := os.ReadFile(name)
	if err != nil {
		return name
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			return fmt.Sprintf("%s:%d", name, i+1)
		}
	}
	return name
}

// datasetFile is the examples the export and the few-shot come from.
func (r *runner) datasetFile() string { return r.cfg.Layout().Dataset() }

// EvalPath is where run writes the evaluation.
func EvalPath(cfg *Config) string { return cfg.Layout().Eval() }

// questionsFile holds the held-out questions: the validation split of the
// OpenAI export, else the dataset.
func (r *runner) questionsFile() string { return r.cfg.Layout().questionsFile() }

func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return p
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
