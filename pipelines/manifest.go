package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/tuneline/tuneline/datasets"
)

// StageRecord is what the manifest keeps of a stage.
type StageRecord struct {
	Inputs   string            `json:"inputs"` // hash of inputs and parameters
	Detail   map[string]string `json:"detail"` // input -> hash, for explaining changes
	Outputs  map[string]string `json:"outputs"`
	Tool     string            `json:"tool"`
	Finished time.Time         `json:"finished"`
	Seconds  float64           `json:"seconds"`
	Summary  string            `json:"summary"`
	// Failed lists what failed in a stage that went on with the rest
	// (a damaged source): the next run tries the stage again.
	Failed []string `json:"failed,omitempty"`
}

// Manifest is build/manifest.json.
type Manifest struct {
	Stages map[string]*StageRecord `json:"stages"`
	// Sources maps each source to its content hash and chunk file.
	Sources map[string]string `json:"sources"`
	// TinyModel: the last synth ran on tuneline's own tiny random-weight
	// model (its text is gibberish; the report says so).
	TinyModel bool `json:"tiny_model,omitempty"`
	// Published is what the publish stage last pushed and where.
	Published *Published `json:"published,omitempty"`
	// Tuned are the tuning jobs the tune stage started.
	Tuned []TunedJob `json:"tuned,omitempty"`
}

// ReadManifest reads a workspace's build/manifest.json (empty when there
// is none yet).
func ReadManifest(cfg *Config) *Manifest {
	m := &Manifest{}
	if b, err := os.ReadFile(cfg.Layout().Manifest()); err == nil {
		json.Unmarshal(b, m)
	}
	return m
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

func (r *runner) manifestPath() string { return r.cfg.Layout().Manifest() }

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

func (r *runner) record(st, inputs string, detail map[string]string, outputs []string, start time.Time, summary string) error {
	rec := &StageRecord{Inputs: inputs, Detail: detail, Outputs: map[string]string{}, Tool: r.opt.Version, Finished: time.Now().UTC(),
		Seconds: time.Since(start).Seconds(), Summary: summary, Failed: r.failed}
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

// serverKey is what of the server section changes outputs (not the
// parallelism, timeout or key).
func serverKey(s Server) string {
	return s.API + " " + s.Model + "@" + s.Host + s.BaseURL + "/" + s.Local
}
