package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
)

// An example the judge cannot score is not lost in silence (the summary
// read "10 scored, 10 kept" of 18): the curate stage's summary says how
// many of how many, the stage lists them (allowed: the run goes on and
// succeeds), and the next run tries them again. The judge
// is a stand-in for fault injection: it answers in JSON except for the
// examples marked "unscorable", whose replies are never valid.
func TestRunSaysWhatCurateCouldNotScore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/models") {
			fmt.Fprintf(w, `{"data":[{"id":%q}]}`, testenv.TinyModel)
			return
		}
		b, _ := io.ReadAll(r.Body)
		content := `{"accuracy":4,"grounding":4,"persona":4,"clarity":4,"reason":"fine"}`
		if strings.Contains(string(b), "unscorable") {
			content = "no JSON here"
		}
		c, _ := json.Marshal(content)
		fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}`, c)
	}))
	defer srv.Close()
	dir := workspace(t, srv.URL)
	p := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(p)
	s := strings.Replace(string(b), "  api: ollama\n", "  api: openai\n  base_url: "+srv.URL+"/v1\n", 1)
	s = strings.Replace(s, "synth:\n", "synth:\n  enabled: false\n", 1)
	s = strings.Replace(s, "formats: [openai, hf, vertex]", "formats: [openai]", 1)
	os.WriteFile(p, []byte(s[:strings.Index(s, "\nmodels:")]+"\n"), 0o644)
	givenSynthOutput(t, dir, 6, func(i int) string {
		if i%3 == 0 {
			return " (unscorable)"
		}
		return ""
	})
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, Options{Version: "test", Log: io.Discard})
	cur := actions(res)["curate"]
	t.Logf("curate: %s; err %v", cur.Summary, err)
	if !strings.Contains(cur.Summary, "4 scored") || !strings.Contains(cur.Summary, "2 of 6 examples could not be scored after their retries (invalid 2)") ||
		!strings.Contains(cur.Summary, "the next run retries them") || len(cur.Failed) != 1 || cur.Allowed == "" {
		t.Errorf("curate %s: %q, failed %q allowed %q", cur.Action, cur.Summary, cur.Failed, cur.Allowed)
	}
	if err != nil {
		t.Errorf("the run's error is %v, want none (the unscored examples are listed and allowed)", err)
	}
	if f := ReadManifest(cfg).Stages["curate"].Failed; len(f) != 1 {
		t.Errorf("manifest lists %q", f)
	}
	if a := actions(res)["export"]; a.Action != "ran" {
		t.Errorf("export %s: the rest goes on", a.Action)
	}
	// publish and tune are off until a destination is set, and say so
	// (they said "switched off in tuneline.yaml", where no key says it).
	for st, want := range map[string]string{"publish": "no destination set (publish.hf_repo or publish.gcs)", "tune": "no base model set (tune.openai_model or tune.vertex_model)"} {
		if a := actions(res)[st]; a.Action != "off" || a.Reason != want {
			t.Errorf("%s %s: %q, want %q", st, a.Action, a.Reason, want)
		}
	}
	res, _ = Run(context.Background(), cfg, Options{Version: "test", Log: io.Discard})
	if cur := actions(res)["curate"]; cur.Action != "ran" || !strings.Contains(cur.Reason, "failed last time") {
		t.Errorf("second run: curate %s (%s), want it to try the unscored ones again", cur.Action, cur.Reason)
	}
}

// givenSynthOutput writes build/synth.jsonl of n distinct examples, as a
// workspace with synth off and its output given has it; mark(i), when
// set, is appended to the i-th question.
func givenSynthOutput(t *testing.T, dir string, n int, mark func(i int) string) []datasets.Example {
	t.Helper()
	var exs []datasets.Example
	var lines []string
	for i := range n {
		q := fmt.Sprintf("Distinct question %d about topic %d?", i, i*7)
		if mark != nil {
			q += mark(i)
		}
		ex := datasets.Example{Messages: []datasets.Message{{Role: "system", Content: "You are Ada."}, {Role: "user", Content: q},
			{Role: "assistant", Content: fmt.Sprintf("Distinct answer %d with number %d.", i, i*i*13)}}}
		ex.EnsureID()
		exs = append(exs, ex)
		l, _ := json.Marshal(ex)
		lines = append(lines, string(l))
	}
	if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "build", "synth.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return exs
}
