package pipelines

import (
	"context"
	"path/filepath"
	"strconv"

	"github.com/tuneline/tuneline/internal/bucket"
)

// stage is one row of the stage table: its name, when it runs, what its
// output depends on (the manifest's detail: hashes of inputs and
// parameters) and which files it writes, and the work itself.
type stage struct {
	name    string
	enabled func(c *Config) bool
	inputs  func(r *runner, d map[string]string) (outputs []string, err error)
	run     func(r *runner, ctx context.Context) (summary string, err error)
}

func always(*Config) bool { return true }

// stages is the pipeline, in order.
var stages = []stage{
	{"ingest", always, (*runner).ingestInputs, (*runner).ingest},
	{"synth", func(c *Config) bool { return c.Synth.Enabled }, (*runner).synthInputs, (*runner).synth},
	{"curate", func(c *Config) bool { return c.Curate.Enabled }, (*runner).curateInputs, (*runner).curate},
	{"export", func(c *Config) bool { return c.Export.Enabled }, (*runner).exportInputs, (*runner).export},
	{"publish", publishEnabled, (*runner).publishInputs, (*runner).publish},
	{"tune", tuneEnabled, (*runner).tuneInputs, (*runner).tune},
	{"create", func(c *Config) bool { return c.Create.Enabled && len(c.Models) > 0 }, (*runner).createInputs, (*runner).create},
	{"eval", func(c *Config) bool { return c.Eval.Enabled && c.Create.Enabled && len(c.Models) > 0 }, (*runner).evalInputs, (*runner).eval},
}

// Stages are the stage names in order.
var Stages = func() []string {
	var names []string
	for _, s := range stages {
		names = append(names, s.name)
	}
	return names
}()

func lookup(name string) (stage, bool) {
	for _, s := range stages {
		if s.name == name {
			return s, true
		}
	}
	return stage{}, false
}

// stageFormat versions what each stage writes: raise a stage's number when
// a change of tuneline changes its outputs for the same inputs, so that
// workspaces built before redo it (and only it, and what follows).
var stageFormat = map[string]int{"ingest": 1, "synth": 1, "curate": 1, "export": 2, "publish": 1, "tune": 1, "create": 1, "eval": 1}

// inputs is the stage's detail, keyed on what changes outputs: the stage's
// format version and its parameters, never the binary's version string or
// where the workspace lies (paths are relative to it).
func (r *runner) inputs(st stage) (map[string]string, []string, error) {
	d := map[string]string{"format": strconv.Itoa(stageFormat[st.name])}
	outs, err := st.inputs(r, d)
	return d, outs, err
}

func (r *runner) ingestInputs(d map[string]string) ([]string, error) {
	files, err := r.sourceFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		h, err := sourceHash(f)
		if err != nil {
			return nil, err
		}
		if h == "url" || bucket.IsURL(f) {
			d["source "+f] = h
			continue
		}
		d["source "+rel(r.cfg.dir, f)] = h
	}
	d["params"] = hashJSON(r.cfg.Ingest)
	d["persona"] = r.persona.Hash() // the chat-log examples get its system prompt
	return []string{r.chunks(), r.chatlogs()}, nil
}

func (r *runner) synthInputs(d map[string]string) ([]string, error) {
	d["chunks"], _ = hashFile(r.chunks())
	d["persona"] = r.persona.Hash()
	d["model"] = serverKey(r.cfg.Ollama)
	d["params"] = hashJSON(r.cfg.Synth)
	return []string{r.synthOut()}, nil
}

func (r *runner) curateInputs(d map[string]string) ([]string, error) {
	d["examples"], _ = hashFile(r.synthOut())
	d["chunks"], _ = hashFile(r.chunks())
	d["persona"] = r.persona.Hash()
	d["model"] = serverKey(r.cfg.Ollama)
	d["params"] = hashJSON(r.cfg.Curate)
	return []string{r.curated()}, nil
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

func (r *runner) createInputs(d map[string]string) ([]string, error) {
	d["examples"], _ = hashFile(r.datasetFile())
	d["persona"] = r.persona.Hash()
	d["models"] = hashJSON(r.cfg.Models)
	d["params"] = hashJSON(r.cfg.Create)
	d["base"] = serverKey(r.cfg.Ollama)
	return []string{filepath.Join(r.build, "models.json")}, nil
}

func (r *runner) evalInputs(d map[string]string) ([]string, error) {
	d["models"], _ = hashFile(filepath.Join(r.build, "models.json"))
	d["questions"], _ = hashFile(r.questionsFile())
	d["persona"] = r.persona.Hash()
	d["params"] = hashJSON(r.cfg.Eval)
	return []string{EvalPath(r.cfg)}, nil
}
