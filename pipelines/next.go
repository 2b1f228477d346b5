package pipelines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/localollama"
)

// HandoffAddr is where the printed command serves the models tuneline's
// own Ollama created (a port beside Ollama's usual 11434).
const HandoffAddr = "127.0.0.1:11435"

// Models reads build/models.json: the models the last create made.
func Models(cfg *Config) ([]CreatedModel, error) {
	b, err := os.ReadFile(cfg.Layout().Models())
	if err != nil {
		return nil, err
	}
	var ms []CreatedModel
	return ms, json.Unmarshal(b, &ms)
}

// NextSteps says, after a run, where its outputs are and what to do with
// them: the commands to talk to the created models (for tuneline's own
// Ollama, a command that serves its models folder, with the binary's
// absolute path), and how to publish the exports to the Hugging Face Hub
// and Vertex AI. It claims only what exists on disk.
func NextSteps(cfg *Config) []string {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	build := cfg.Path(cfg.Build)
	var out []string
	if _, err := os.Stat(ReportPath(cfg)); err == nil {
		out = append(out, "report:  "+abs(ReportPath(cfg)))
	}
	exports := map[string]string{}
	random := false
	for _, f := range cfg.Export.Formats {
		d := filepath.Join(build, "export", f)
		if b, err := os.ReadFile(filepath.Join(d, "export-report.json")); err == nil {
			var rep struct {
				RandomModel bool `json:"random_model"`
			}
			json.Unmarshal(b, &rep)
			random = random || rep.RandomModel
			exports[f] = abs(d)
			out = append(out, fmt.Sprintf("export %-8s %s", f+":", abs(d)))
		}
	}
	if random {
		// Nothing to publish: say why instead of printing upload commands.
		out = append(out, "", "The exports hold random-model output (tuneline's tiny random-weight test model wrote them):",
			"not for publishing or tuning. Set ollama.model in tuneline.yaml to a real model (ollama pull NAME) and run again.")
		clear(exports)
	}
	if ms, err := Models(cfg); err == nil && len(ms) > 0 {
		own := ""
		for _, m := range ms {
			if m.ModelsDir != "" {
				own = m.ModelsDir
			}
		}
		if own != "" {
			bin, ok := localollama.InstalledBinary()
			if !ok {
				bin = "ollama"
			}
			out = append(out, "", "The models were created in tuneline's own Ollama (its server stopped with the run). Serve them with:",
				fmt.Sprintf("  OLLAMA_MODELS=%s OLLAMA_HOST=%s %s serve &", shellQuote(abs(own)), HandoffAddr, shellQuote(bin)))
			for _, m := range ms {
				out = append(out, fmt.Sprintf("  OLLAMA_HOST=%s %s run %s", HandoffAddr, shellQuote(bin), m.Name))
			}
		} else {
			out = append(out, "", "Talk to the models:")
			for _, m := range ms {
				out = append(out, fmt.Sprintf("  OLLAMA_HOST=%s ollama run %s", strings.TrimPrefix(m.Host, "http://"), m.Name))
			}
		}
	}
	if p := ReadManifest(cfg).Published; p != nil && len(exports) > 0 {
		out = append(out, "")
		if p.HF != nil {
			out = append(out, fmt.Sprintf("published: %s (commit %.12s on %s)", p.HF.URL, p.HF.Commit, p.HF.Revision))
			delete(exports, format.TargetHF)
		}
		if p.GCS != nil {
			out = append(out, fmt.Sprintf("published: %s (%d objects)", p.GCS.URL, len(p.GCS.Objects)))
		}
	}
	for _, t := range format.AllTargets() {
		if d, ok := exports[t.Name]; ok && t.Next != nil {
			out = append(out, "")
			out = append(out, t.Next(cfg.Name, d, shellQuote)...)
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[](){}<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
