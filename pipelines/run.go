package pipelines

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/eval"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/localollama"
	"github.com/tuneline/tuneline/modelfile"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/report"
	"github.com/tuneline/tuneline/synth"
)

// Stages in order.
var Stages = []string{"ingest", "synth", "curate", "export", "create", "eval"}

// StageRecord is what the manifest keeps of a stage.
type StageRecord struct {
	Inputs   string            `json:"inputs"` // hash of inputs and parameters
	Detail   map[string]string `json:"detail"` // input -> hash, for explaining changes
	Outputs  map[string]string `json:"outputs"`
	Tool     string            `json:"tool"`
	Finished time.Time         `json:"finished"`
	Seconds  float64           `json:"seconds"`
	Summary  string            `json:"summary"`
}

// Manifest is build/manifest.json.
type Manifest struct {
	Stages map[string]*StageRecord `json:"stages"`
	// Sources maps each source to its content hash and chunk file.
	Sources map[string]string `json:"sources"`
}

// Options control a run.
type Options struct {
	From    string // start at this stage (earlier ones must be up to date)
	Only    string // run only this stage
	DryRun  bool
	Force   bool
	Version string
	Log     io.Writer // progress and plan
	// Verbose logs each stage's inputs and their hashes.
	Verbose bool
	// Progress, when set, is told the items done in the running stage
	// (tasks of synth, examples of curate); total is 0 when unknown.
	Progress func(stage string, done, total int)
}

// StageResult is one line of the final table.
type StageResult struct {
	Stage   string  `json:"stage"`
	Action  string  `json:"action"` // ran, skipped, planned, failed, off
	Reason  string  `json:"reason"`
	Seconds float64 `json:"seconds"`
	Summary string  `json:"summary"`
}

// Result of a run.
type Result struct {
	Stages      []StageResult `json:"stages"`
	LocalOllama string        `json:"local_ollama,omitempty"` // the models folder when the project's own server was used
	Gibberish   bool          `json:"gibberish"`
}

type runner struct {
	cfg      *Config
	opt      Options
	man      *Manifest
	build    string
	log      io.Writer
	persona  *persona.Persona
	host     string
	model    string
	local    *localollama.Server
	res      *Result
	upstream bool // an earlier stage ran in this run
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func hashJSON(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:16]
}

func (r *runner) manifestPath() string { return filepath.Join(r.build, "manifest.json") }

func (r *runner) loadManifest() {
	r.man = &Manifest{Stages: map[string]*StageRecord{}, Sources: map[string]string{}}
	if b, err := os.ReadFile(r.manifestPath()); err == nil {
		json.Unmarshal(b, r.man)
		if r.man.Stages == nil {
			r.man.Stages = map[string]*StageRecord{}
		}
		if r.man.Sources == nil {
			r.man.Sources = map[string]string{}
		}
	}
}

func (r *runner) saveManifest() error {
	b, _ := json.MarshalIndent(r.man, "", "  ")
	return datasets.WriteFileAtomic(r.manifestPath(), append(b, '\n'))
}

// Run executes the workspace's pipeline.
func Run(ctx context.Context, cfg *Config, opt Options) (*Result, error) {
	r := &runner{cfg: cfg, opt: opt, build: cfg.Path(cfg.Build), log: opt.Log, res: &Result{}}
	if r.log == nil {
		r.log = io.Discard
	}
	if opt.From != "" && !known(opt.From) || opt.Only != "" && !known(opt.Only) {
		return nil, fmt.Errorf("unknown stage %q (stages: %s)", opt.From+opt.Only, strings.Join(Stages, ", "))
	}
	var err error
	if r.persona, err = persona.Load(cfg.Path(cfg.Persona)); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.build, 0o755); err != nil {
		return nil, err
	}
	r.loadManifest()
	defer func() {
		if r.local != nil {
			r.local.Stop()
		}
	}()
	started := opt.From == ""
	for _, st := range Stages {
		if st == opt.From {
			started = true
		}
		if (opt.Only != "" && st != opt.Only) || !started {
			continue
		}
		if !r.enabled(st) {
			r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "off", Reason: "switched off in tuneline.yaml"})
			continue
		}
		if err := r.stage(ctx, st); err != nil {
			r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "failed", Reason: err.Error()})
			return r.res, fmt.Errorf("stage %s: %w (earlier stages' outputs are kept; the next run starts here)", st, err)
		}
	}
	if !opt.DryRun {
		if err := r.snapshot(); err != nil {
			return r.res, err
		}
		if _, err := os.Stat(r.datasetFile()); err == nil {
			if err := WriteReport(ctx, cfg, ReportPath(cfg), opt.Version); err != nil {
				return r.res, err
			}
			fmt.Fprintf(r.log, "report   %s\n", ReportPath(cfg))
		}
	}
	return r.res, nil
}

// ReportPath is where run writes the HTML report.
func ReportPath(cfg *Config) string { return filepath.Join(cfg.Path(cfg.Build), "report.html") }

// WriteReport renders the workspace's report.
func WriteReport(ctx context.Context, cfg *Config, path, version string) error {
	f := WorkspaceFiles(cfg)
	in := report.Inputs{Title: cfg.Name, Dataset: f.Dataset, Chunks: f.Chunks, GeneratedBy: "tuneline " + version}
	if f.Dataset != f.Synth {
		in.Synth = f.Synth
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
func HistoryDir(cfg *Config) string { return filepath.Join(cfg.Path(cfg.Build), "history") }

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
	for _, x := range cfg.Export.Formats {
		f.Exports = append(f.Exports, r.exportDir(x))
	}
	return f
}

func known(s string) bool {
	for _, x := range Stages {
		if x == s {
			return true
		}
	}
	return false
}

func (r *runner) enabled(st string) bool {
	c := r.cfg
	switch st {
	case "synth":
		return on(c.Synth.Enabled)
	case "curate":
		return on(c.Curate.Enabled)
	case "export":
		return on(c.Export.Enabled)
	case "create":
		return on(c.Create.Enabled) && len(c.Models) > 0
	case "eval":
		return on(c.Eval.Enabled) && on(c.Create.Enabled) && len(c.Models) > 0
	}
	return true
}

// plan computes a stage's input hash and why it would run ("" = up to date).
func (r *runner) plan(st string, detail map[string]string, outputs []string) (string, string) {
	inputs := hashJSON(detail)
	prev := r.man.Stages[st]
	switch {
	case r.opt.Force:
		return inputs, "forced (--force)"
	case prev == nil:
		return inputs, "never ran"
	case prev.Inputs != inputs:
		var changed []string
		for k, v := range detail {
			if prev.Detail[k] != v {
				changed = append(changed, k)
			}
		}
		for k := range prev.Detail {
			if _, ok := detail[k]; !ok {
				changed = append(changed, k+" (removed)")
			}
		}
		sort.Strings(changed)
		if len(changed) > 4 {
			changed = append(changed[:4], fmt.Sprintf("and %d more", len(changed)-4))
		}
		return inputs, "changed: " + strings.Join(changed, ", ")
	}
	for _, o := range outputs {
		h, err := hashFile(o)
		if err != nil {
			return inputs, "output missing: " + rel(r.cfg.dir, o)
		}
		if prev.Outputs[rel(r.cfg.dir, o)] != h {
			return inputs, "output changed since: " + rel(r.cfg.dir, o)
		}
	}
	return inputs, ""
}

func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return p
}

func (r *runner) record(st, inputs string, detail map[string]string, outputs []string, start time.Time, summary string) error {
	rec := &StageRecord{Inputs: inputs, Detail: detail, Outputs: map[string]string{}, Tool: r.opt.Version, Finished: time.Now().UTC(),
		Seconds: time.Since(start).Seconds(), Summary: summary}
	for _, o := range outputs {
		h, err := hashFile(o)
		if err != nil {
			return err
		}
		rec.Outputs[rel(r.cfg.dir, o)] = h
	}
	r.man.Stages[st] = rec
	return r.saveManifest()
}

func (r *runner) stage(ctx context.Context, st string) error {
	detail, outputs, err := r.inputs(ctx, st)
	if err != nil {
		return err
	}
	inputs, why := r.plan(st, detail, outputs)
	if why == "" && r.opt.DryRun && r.upstream {
		why = "an earlier stage would run first and may change its inputs"
	}
	if why == "" {
		prev := r.man.Stages[st]
		fmt.Fprintf(r.log, "%-8s up to date (%s)\n", st, prev.Summary)
		r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "skipped", Reason: "inputs, parameters and outputs unchanged", Summary: prev.Summary})
		return nil
	}
	r.upstream = true
	if r.opt.DryRun {
		fmt.Fprintf(r.log, "%-8s would run: %s\n", st, why)
		r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "planned", Reason: why})
		return nil
	}
	fmt.Fprintf(r.log, "%-8s running: %s\n", st, why)
	if r.opt.Verbose {
		for _, k := range sortedKeys(detail) {
			fmt.Fprintf(r.log, "         input %s = %s\n", k, detail[k])
		}
	}
	start := time.Now()
	summary, err := r.exec(ctx, st)
	if err != nil {
		return err
	}
	if err := r.record(st, inputs, detail, outputs, start, summary); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "%-8s done in %.1f s: %s\n", st, time.Since(start).Seconds(), summary)
	r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "ran", Reason: why, Seconds: time.Since(start).Seconds(), Summary: summary})
	return nil
}

// Output paths.
func (r *runner) chunks() string   { return filepath.Join(r.build, "chunks.jsonl") }
func (r *runner) chatlogs() string { return filepath.Join(r.build, "chatlog-examples.jsonl") }
func (r *runner) synthOut() string { return filepath.Join(r.build, "synth.jsonl") }
func (r *runner) curated() string  { return filepath.Join(r.build, "curated.jsonl") }
func (r *runner) exportDir(f string) string {
	return filepath.Join(r.build, "export", f)
}

// sourceFiles expands the configured sources.
func (r *runner) sourceFiles() ([]string, error) {
	var srcs []string
	for _, s := range r.cfg.Sources {
		if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
			srcs = append(srcs, s)
		} else {
			srcs = append(srcs, r.cfg.Path(s))
		}
	}
	return ingest.Expand(srcs)
}

// stageFormat versions what each stage writes: raise a stage's number when
// a change of tuneline changes its outputs for the same inputs, so that
// workspaces built before redo it (and only it, and what follows).
var stageFormat = map[string]int{"ingest": 1, "synth": 1, "curate": 1, "export": 1, "create": 1, "eval": 1}

func (r *runner) inputs(ctx context.Context, st string) (map[string]string, []string, error) {
	c := r.cfg
	// Keyed on what changes outputs: the stage's format version and its
	// parameters, never the binary's version string or where the workspace
	// lies (paths are relative to it).
	d := map[string]string{"format": strconv.Itoa(stageFormat[st])}
	switch st {
	case "ingest":
		files, err := r.sourceFiles()
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			if strings.HasPrefix(f, "http") {
				d["source "+f] = "url"
				continue
			}
			h, err := hashFile(f)
			if err != nil {
				return nil, nil, err
			}
			d["source "+rel(c.dir, f)] = h
		}
		d["params"] = hashJSON(c.Ingest)
		return d, []string{r.chunks(), r.chatlogs()}, nil
	case "synth":
		d["chunks"], _ = hashFile(r.chunks())
		d["persona"] = r.persona.Hash()
		d["model"] = c.Ollama.Model + "@" + c.Ollama.Host + "/" + c.Ollama.Local
		d["params"] = hashJSON(c.Synth)
		return d, []string{r.synthOut()}, nil
	case "curate":
		d["examples"], _ = hashFile(r.synthOut())
		d["chunks"], _ = hashFile(r.chunks())
		d["persona"] = r.persona.Hash()
		d["model"] = c.Ollama.Model
		d["params"] = hashJSON(c.Curate)
		return d, []string{r.curated()}, nil
	case "export":
		d["examples"], _ = hashFile(r.datasetFile())
		d["chatlogs"], _ = hashFile(r.chatlogs())
		d["params"] = hashJSON(c.Export)
		var outs []string
		for _, f := range c.Export.Formats {
			outs = append(outs, filepath.Join(r.exportDir(f), "export-report.json"))
		}
		return d, outs, nil
	case "create":
		d["examples"], _ = hashFile(r.datasetFile())
		d["persona"] = r.persona.Hash()
		d["models"] = hashJSON(c.Models)
		d["base"] = c.Ollama.Model + "/" + c.Ollama.Local
		return d, []string{filepath.Join(r.build, "models.json")}, nil
	case "eval":
		d["models"], _ = hashFile(filepath.Join(r.build, "models.json"))
		d["questions"], _ = hashFile(r.questionsFile())
		d["persona"] = r.persona.Hash()
		d["params"] = hashJSON(c.Eval)
		return d, []string{EvalPath(c)}, nil
	}
	return d, nil, nil
}

// datasetFile is the examples the export and the few-shot come from.
func (r *runner) datasetFile() string {
	if on(r.cfg.Curate.Enabled) {
		return r.curated()
	}
	return r.synthOut()
}

func (r *runner) exec(ctx context.Context, st string) (string, error) {
	switch st {
	case "ingest":
		return r.ingest(ctx)
	case "synth":
		return r.synth(ctx)
	case "curate":
		return r.curate(ctx)
	case "export":
		return r.export(ctx)
	case "create":
		return r.create(ctx)
	case "eval":
		return r.eval(ctx)
	}
	return "", nil
}

// ingest re-extracts only the sources whose content changed; each keeps
// its own chunk file under build/ingest/.
func (r *runner) ingest(ctx context.Context) (string, error) {
	files, err := r.sourceFiles()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r.build, "ingest")
	os.MkdirAll(dir, 0o755)
	var chunks, exs bytes.Buffer
	reused, redone := 0, 0
	var failed []string
	for _, f := range files {
		key := hashJSON(f)
		h := "url"
		if !strings.HasPrefix(f, "http") {
			if h, err = hashFile(f); err != nil {
				return "", err
			}
		}
		cf, ef := filepath.Join(dir, key+".chunks.jsonl"), filepath.Join(dir, key+".examples.jsonl")
		stamp := h + "/" + hashJSON(r.cfg.Ingest)
		if r.man.Sources[f] == stamp && h != "url" {
			cb, err1 := os.ReadFile(cf)
			eb, err2 := os.ReadFile(ef)
			if err1 == nil && err2 == nil {
				chunks.Write(cb)
				exs.Write(eb)
				reused++
				continue
			}
		}
		var cbuf, ebuf bytes.Buffer
		sum, err := ingest.Run(ctx, []string{f}, ingest.Options{Chunk: ingest.ChunkOptions{Target: r.cfg.Ingest.ChunkTokens, Overlap: r.cfg.Ingest.Overlap}},
			&ingest.JSONOutput{Chunks: &cbuf, Examples: &ebuf})
		if err != nil {
			return "", err
		}
		for src, e := range sum.Errors {
			failed = append(failed, rel(r.cfg.dir, src)+": "+e)
		}
		if err := datasets.WriteFileAtomic(cf, cbuf.Bytes()); err != nil {
			return "", err
		}
		if err := datasets.WriteFileAtomic(ef, ebuf.Bytes()); err != nil {
			return "", err
		}
		r.man.Sources[f] = stamp
		chunks.Write(cbuf.Bytes())
		exs.Write(ebuf.Bytes())
		redone++
	}
	for _, e := range failed {
		fmt.Fprintf(r.log, "         source failed: %s\n", e)
	}
	if err := datasets.WriteFileAtomic(r.chunks(), chunks.Bytes()); err != nil {
		return "", err
	}
	if err := datasets.WriteFileAtomic(r.chatlogs(), exs.Bytes()); err != nil {
		return "", err
	}
	nChunks := bytes.Count(chunks.Bytes(), []byte("\n"))
	nEx := bytes.Count(exs.Bytes(), []byte("\n"))
	if nChunks == 0 && nEx == 0 {
		return "", fmt.Errorf("no text came out of the sources")
	}
	return fmt.Sprintf("%d sources (%d re-ingested, %d unchanged, %d failed), %d chunks, %d chat-log examples", len(files), redone, reused, len(failed), nChunks, nEx), nil
}

// ollama finds the server and model to generate with, starting the
// project's own with the tiny model when needed.
func (r *runner) ollama(ctx context.Context) (string, string, error) {
	if r.host != "" {
		return r.host, r.model, nil
	}
	c := r.cfg
	host, err := llm.ParseHost(c.Ollama.Host) // empty: OLLAMA_HOST, as Ollama reads it
	if err != nil {
		return "", "", fmt.Errorf("ollama.host: %w", err)
	}
	if c.Ollama.Local != "always" && c.Ollama.Model != "" && hasModel(ctx, host, c.Ollama.Model) {
		r.host, r.model = host, c.Ollama.Model
		return r.host, r.model, nil
	}
	if c.Ollama.Local == "never" {
		return "", "", fmt.Errorf("no Ollama with model %q at %s (%s; set ollama.host/ollama.model or OLLAMA_HOST, or ollama.local: auto)", c.Ollama.Model, host, llm.HostEnv())
	}
	fmt.Fprintf(r.log, "\n"+strings.Repeat("!", 78)+"\n"+
		"!! No Ollama with model %q found at %s.\n"+
		"!! Starting tuneline's own Ollama with a TINY RANDOM-WEIGHT model: every generated\n"+
		"!! question, answer and score below is GIBBERISH. It shows the pipeline works; for\n"+
		"!! real data set ollama.host and ollama.model in tuneline.yaml (or OLLAMA_HOST).\n"+
		strings.Repeat("!", 78)+"\n\n", c.Ollama.Model, host)
	srv, err := localollama.Start(ctx, localollama.Options{Dir: filepath.Join(r.build, "ollama"), Log: r.log, NumParallel: 2})
	if err != nil {
		return "", "", err
	}
	r.local = srv
	if !hasModel(ctx, srv.URL, "tiny") {
		if err := srv.CreateTiny(ctx, "tiny"); err != nil {
			return "", "", err
		}
	}
	r.host, r.model = srv.URL, "tiny"
	r.res.LocalOllama = filepath.Join(r.build, "ollama", "models")
	r.res.Gibberish = true
	return r.host, r.model, nil
}

// hasModel tells whether the server at host answers and has model (synth's
// preflight, without pulling).
func hasModel(ctx context.Context, host, model string) bool {
	b, err := llm.NewOllama(host)
	if err != nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = b.Preflight(cctx, model, false)
	return err == nil
}

// backend is the generation backend and model of this run.
func (r *runner) backend(ctx context.Context) (llm.Backend, string, error) {
	host, model, err := r.ollama(ctx)
	if err != nil {
		return nil, "", err
	}
	b, err := llm.NewOllama(host)
	return b, model, err
}

func (r *runner) synth(ctx context.Context) (string, error) {
	b, model, err := r.backend(ctx)
	if err != nil {
		return "", err
	}
	c := r.cfg.Synth
	lim := synth.Limits{QuestionChars: c.MaxQuestionChars, AnswerChars: c.MaxAnswerChars}
	if r.res.Gibberish && lim.QuestionChars == 0 {
		lim = synth.Limits{QuestionChars: 60, AnswerChars: 160} // keep the tiny model quick
	}
	f, err := datasets.CreateAtomic(r.synthOut())
	if err != nil {
		return "", err
	}
	defer f.Abort()
	sum, err := synth.Run(ctx, r.chunks(), synth.Options{Model: model, Persona: r.persona, Backend: b, PairsPerChunk: c.Pairs, Conversations: c.Conversations,
		Turns: c.Turns, Limits: lim, Parallel: c.Parallel, Temperature: 0.7, Seed: c.Seed, CacheDir: filepath.Join(r.build, "cache", "synth"),
		Progress: func(s *synth.Summary) { r.progress("synth", s.TasksDone, s.Tasks) }}, f)
	if err != nil {
		return "", err
	}
	if len(sum.Failures) > 0 {
		return "", fmt.Errorf("%d tasks failed (%v); run again to retry them", len(sum.Failed), sum.Failures)
	}
	if err := f.Commit(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d chunks, %d examples (%d tasks from cache, %d requests)", sum.Chunks, sum.Examples, sum.Cached, sum.Requests), nil
}

func (r *runner) curate(ctx context.Context) (string, error) {
	b, model, err := r.backend(ctx)
	if err != nil {
		return "", err
	}
	f, err := datasets.CreateAtomic(r.curated())
	if err != nil {
		return "", err
	}
	defer f.Abort()
	total, _ := datasets.CountLines(r.synthOut()) // for progress only: Curate reports a bad file
	sum, err := synth.Curate(ctx, r.synthOut(), synth.CurateOptions{Model: model, Backend: b, Persona: r.persona, Chunks: r.chunks(),
		MinScore: r.cfg.Curate.MinScore, Parallel: r.cfg.Synth.Parallel, CacheDir: filepath.Join(r.build, "cache", "curate"),
		Progress: func(done int) { r.progress("curate", done, total) }}, f)
	if err != nil {
		return "", err
	}
	if err := f.Commit(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d scored, %d kept (overall mean %.2f)", sum.Scored, sum.Kept, sum.Mean["overall"]), nil
}

func (r *runner) export(ctx context.Context) (string, error) {
	inputs := []string{r.datasetFile()}
	if st, err := os.Stat(r.chatlogs()); err == nil && st.Size() > 0 {
		inputs = append(inputs, r.chatlogs())
	}
	var parts []string
	for _, f := range r.cfg.Export.Formats {
		rep, err := format.Export(ctx, inputs, format.Options{Target: f, OutDir: r.exportDir(f), Split: r.cfg.Export.Split, Seed: r.cfg.Export.Seed,
			NearDup: *r.cfg.Export.NearDup, MaxTokens: 4096, Name: r.cfg.Name, License: r.cfg.Export.License, Language: []string{"en"}, Version: r.opt.Version})
		if err != nil {
			return "", fmt.Errorf("export %s: %w", f, err)
		}
		parts = append(parts, fmt.Sprintf("%s %d", f, rep.Written))
	}
	return "examples written: " + strings.Join(parts, ", "), nil
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
	type made struct {
		Name   string                 `json:"name"`
		From   string                 `json:"from"`
		Host   string                 `json:"host"`
		Result *modelfile.Result      `json:"result"`
		Smoke  *modelfile.SmokeResult `json:"smoke"`
	}
	var out []made
	var names []string
	for _, m := range r.cfg.Models {
		p := r.persona
		if m.Persona != "" {
			if p, err = persona.Load(r.cfg.Path(m.Persona)); err != nil {
				return "", err
			}
		}
		from := m.From
		if from == "" || r.res.Gibberish {
			from = model // the tiny model when tuneline runs its own server
		}
		n := m.Examples
		if n == 0 {
			n = 3
		}
		msgs, err := modelfile.FewShot(ctx, r.datasetFile(), n, 1024)
		if err != nil {
			return "", err
		}
		spec := &modelfile.Spec{From: from, System: strings.TrimRight(p.System, "\n"), Params: modelfile.SortedParams(m.Params), Messages: msgs}
		res, err := modelfile.Create(ctx, client, m.Name, spec, io.Discard)
		if err != nil {
			return "", err
		}
		q := "Who are you?"
		if len(p.Examples) > 0 {
			q = p.Examples[0].Question
		}
		smoke := client.Smoke(ctx, m.Name, q)
		if !smoke.OK {
			return "", fmt.Errorf("model %s: smoke test failed: %s", m.Name, smoke.Error)
		}
		out = append(out, made{m.Name, from, host, res, smoke})
		names = append(names, fmt.Sprintf("%s (%.1f MB)", m.Name, float64(res.Size)/1e6))
		text, err := spec.Render()
		if err != nil {
			text = "# This model cannot be written as a Modelfile; it was created through the API.\n# " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n"
		}
		if err := datasets.WriteFileAtomic(filepath.Join(r.build, "modelfiles", m.Name+".Modelfile"), []byte(text)); err != nil {
			return "", err
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := datasets.WriteFileAtomic(filepath.Join(r.build, "models.json"), append(b, '\n')); err != nil {
		return "", err
	}
	return "created " + strings.Join(names, ", "), nil
}

func (r *runner) progress(stage string, done, total int) {
	if r.opt.Progress != nil {
		r.opt.Progress(stage, done, total)
	}
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// EvalPath is where run writes the evaluation.
func EvalPath(cfg *Config) string { return filepath.Join(cfg.Path(cfg.Build), "eval.json") }

// questionsFile holds the held-out questions: the validation split of the
// OpenAI export, else the dataset.
func (r *runner) questionsFile() string {
	p := filepath.Join(r.exportDir("openai"), "validation.jsonl")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return r.datasetFile()
}

func (r *runner) eval(ctx context.Context) (string, error) {
	b, model, err := r.backend(ctx)
	if err != nil {
		return "", err
	}
	n := r.cfg.Eval.Questions
	if n == 0 {
		n = 10
	}
	qs, err := eval.LoadQuestions(ctx, r.questionsFile(), n)
	if err != nil {
		return "", err
	}
	var targets []eval.Target
	for _, m := range r.cfg.Models {
		targets = append(targets, eval.Target{Label: m.Name, Model: m.Name})
	}
	if on(r.cfg.Eval.Baseline) {
		targets = append(targets, eval.Target{Label: "baseline " + model, Model: model, System: strings.TrimRight(r.persona.System, "\n")})
	}
	limit := 256
	if r.res.Gibberish {
		limit = 48
	}
	rep, err := eval.Run(ctx, qs, targets, eval.Options{Backend: b, Judge: model, Persona: r.persona, Parallel: r.cfg.Synth.Parallel, MaxTokens: limit,
		CacheDir: filepath.Join(r.build, "cache", "eval"), Progress: func(done, total int) { r.progress("eval", done, total) }})
	if err != nil {
		return "", err
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := datasets.WriteFileAtomic(EvalPath(r.cfg), append(js, '\n')); err != nil {
		return "", err
	}
	var parts []string
	for _, s := range rep.Summaries {
		parts = append(parts, fmt.Sprintf("%s persona %.2f accuracy %.2f", s.Target, s.Persona.Mean, s.Accuracy.Mean))
	}
	return fmt.Sprintf("%d questions: %s", len(qs), strings.Join(parts, "; ")), nil
}
