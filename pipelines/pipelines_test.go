package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Shutdown()
	os.Exit(code)
}

// workspace copies examples/physics-expert (without build/) and points it
// at the test server.
func workspace(t *testing.T, host string) string {
	t.Helper()
	dst := t.TempDir()
	src := "../examples/physics-expert"
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(rel, "build") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "tuneline.yaml" {
			s := strings.Replace(string(b), `host: ""`, `host: "`+host+`"`, 1)
			s = strings.Replace(s, "model: llama3.2", "model: "+testenv.TinyModel, 1)
			s = strings.Replace(s, "from: llama3.2", "from: "+testenv.TinyModel, 1)
			s = strings.Replace(s, "local: auto", "local: never", 1)
			s = strings.Replace(s, "synth:\n", "synth:\n  max_question_chars: 40\n  max_answer_chars: 100\n", 1)
			b = []byte(s)
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func actions(res *Result) map[string]StageResult {
	m := map[string]StageResult{}
	for _, s := range res.Stages {
		m[s.Stage] = s
	}
	return m
}

// onStages are the stages a workspace runs: publish and tune are off until a
// destination or a base model is set, and say so; alsoOff names the stages
// the test's workspace switched off itself.
func onStages(t *testing.T, res *Result, alsoOff ...string) []string {
	t.Helper()
	var on []string
	for _, st := range Stages {
		if a := actions(res)[st]; a.Action == "off" {
			if st != "publish" && st != "tune" && !slices.Contains(alsoOff, st) {
				t.Errorf("%s off (%s): only publish and tune are off by default", st, a.Reason)
			}
			continue
		}
		on = append(on, st)
	}
	return on
}

// The whole path on a fresh workspace; a second run does nothing and says
// why; editing one source redoes only what depends on it.
func TestRunIncremental(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := workspace(t, srv.URL)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var log strings.Builder
	res, err := Run(ctx, cfg, Options{Version: "test", Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, st := range onStages(t, res) {
		if a := actions(res)[st]; a.Action != "ran" {
			t.Errorf("first run: %s %s (%s)", st, a.Action, a.Reason)
		}
	}
	for _, f := range []string{"build/export/openai/train.jsonl", "build/export/hf/README.md", "build/export/hf/data/train-00000-of-00001.parquet",
		"build/export/vertex/train.jsonl", "build/models.json", "build/manifest.json", "build/modelfiles/ada-physics.Modelfile"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if res.Gibberish {
		t.Error("used the configured server, so nothing should be flagged as gibberish")
	}
	if page, _ := os.ReadFile(ReportPath(cfg)); strings.Contains(string(page), `id="gibberish"`) {
		t.Error("the report of a real server's run carries the gibberish banner")
	}

	res, err = Run(ctx, cfg, Options{Version: "test", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range onStages(t, res) {
		if a := actions(res)[st]; a.Action != "skipped" || a.Reason == "" {
			t.Errorf("second run: %s %s (%s)", st, a.Action, a.Reason)
		}
	}

	notes := filepath.Join(dir, "sources", "quantum-notes.md")
	b, _ := os.ReadFile(notes)
	os.WriteFile(notes, append(b, []byte("\nLasers emit photons that all share one wavelength and phase.\n")...), 0o644)
	plan, err := Run(ctx, cfg, Options{Version: "test", DryRun: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(plan)["ingest"]; a.Action != "planned" || !strings.Contains(a.Reason, "quantum-notes.md") {
		t.Errorf("dry run: ingest %+v", a)
	}
	res, err = Run(ctx, cfg, Options{Version: "test", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	a := actions(res)
	if !strings.Contains(a["ingest"].Summary, "1 re-ingested, 5 unchanged") {
		t.Errorf("ingest: %+v", a["ingest"])
	}
	// Only the changed chunk reaches the model: the document's other
	// chunks have the same text and come from the cache.
	if !strings.Contains(a["synth"].Summary, "8 tasks from cache, 1 requests") && !strings.Contains(a["synth"].Summary, "8 tasks from cache, 2 requests") {
		t.Errorf("synth: %+v", a["synth"])
	}
	t.Log(a["synth"].Summary)
}

// The manifest keys on what changes outputs: a build by another binary
// version, or of the workspace moved to another folder, is up to date.
func TestManifestIgnoresVersionAndLocation(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Run(ctx, cfg, Options{Version: "v1.0.0", Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(moved)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1.0.0", "devel 8f11ca24a3b5 2026-12-02T04:36:01Z dirty"} {
		res, err := Run(ctx, cfg, Options{Version: v, Only: "ingest", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if a := actions(res)["ingest"]; a.Action != "skipped" {
			t.Errorf("moved workspace, version %q: ingest %s (%s)", v, a.Action, a.Reason)
		}
	}
	// A stage's format version is part of its key.
	ingestStage.format++
	defer func() { ingestStage.format-- }()
	res, err := Run(ctx, cfg, Options{Only: "ingest", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["ingest"]; a.Action != "planned" || !strings.Contains(a.Reason, "format") {
		t.Errorf("new ingest format: %s (%s)", a.Action, a.Reason)
	}
}

// A workspace with api: openai and base_url at a real Ollama's /v1 runs end
// to end: generation, judging and evaluation go through the
// OpenAI-compatible API, model creation through Ollama's (host).
func TestRunOpenAIWorkspace(t *testing.T) {
	srv := testenv.Ollama(t)
	target, _ := url.Parse(srv.URL)
	var mu sync.Mutex
	paths := map[string]int{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	dir := workspace(t, front.URL)
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	s := strings.Replace(string(b), "  api: ollama\n", "  api: openai\n  base_url: "+front.URL+"/v1\n", 1)
	// Preference pairs too: each format then gets a chat export and a
	// preference export beside it.
	s = strings.Replace(s, "synth:\n", "synth:\n  preferences: 1\n", 1)
	os.WriteFile(ws, []byte(s), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ollama.API != "openai" {
		t.Fatalf("api %q", cfg.Ollama.API)
	}
	var log strings.Builder
	res, err := Run(context.Background(), cfg, Options{Version: "test", Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, st := range onStages(t, res) {
		if a := actions(res)[st]; a.Action != "ran" {
			t.Errorf("%s %s (%s)", st, a.Action, a.Reason)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests by path: %v", paths)
	if paths["/v1/chat/completions"] == 0 || paths["/api/chat"] > paths["/v1/chat/completions"] {
		t.Errorf("generation did not go through the OpenAI-compatible API: %v", paths)
	}
	if paths["/api/create"] == 0 {
		t.Errorf("no model was created through Ollama's API: %v", paths)
	}
	for _, f := range cfg.Export.Formats {
		for dir, kind := range map[string]string{f: format.KindChat, f + "-preference": format.KindPreference} {
			b, err := os.ReadFile(filepath.Join(cfg.Path(cfg.Build), "export", dir, "export-report.json"))
			if f == format.TargetVertex && kind == format.KindPreference {
				if err == nil {
					t.Errorf("vertex has a preference export")
				}
				continue
			}
			var rep format.Report
			if err != nil || json.Unmarshal(b, &rep) != nil || rep.Kind != kind || rep.Written == 0 {
				t.Errorf("export %s: kind %q, %d written (%v)", dir, rep.Kind, rep.Written, err)
			}
		}
	}
}

// A run on tuneline's own tiny random-weight model says so where a user
// reads: the report carries the gibberish banner.
func TestRunTinyModelReportBanner(t *testing.T) {
	testenv.Integration(t, "tuneline's own Ollama")
	testenv.LockMachine(t) // its own server: not at the same time as another test's
	dir := workspace(t, "http://127.0.0.1:9")
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	s := strings.Replace(string(b), "local: never", "local: always", 1)
	s = strings.Replace(s, "pairs: 2", "pairs: 1", 1)
	s = strings.Replace(s, "chunk_tokens: 120", "chunk_tokens: 400", 1)
	s = strings.Replace(s, "curate:\n", "curate:\n  enabled: false\n", 1)
	s += "\neval: {enabled: false}\n"
	os.WriteFile(ws, []byte(s), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res, err := Run(context.Background(), cfg, Options{Version: "test", Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !res.Gibberish || !strings.Contains(log.String(), "GIBBERISH") {
		t.Errorf("the run did not say it used the tiny model:\n%s", log.String())
	}
	page, err := os.ReadFile(ReportPath(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `id="gibberish"`) {
		t.Error("the report of a tiny-model run has no gibberish banner")
	}
	// The exports say so too (their report, and the card a user would
	// upload), and no publishing command is offered.
	for _, f := range cfg.Export.Formats {
		var rep format.Report
		b, err := os.ReadFile(filepath.Join(dir, "build", "export", f, "export-report.json"))
		if err != nil || json.Unmarshal(b, &rep) != nil || !rep.RandomModel {
			t.Errorf("export %s: report does not say random_model (%v)", f, err)
		}
	}
	if card, err := os.ReadFile(filepath.Join(dir, "build", "export", "hf", "README.md")); err != nil || !strings.Contains(string(card), "random-model output") {
		t.Errorf("the hf card of a tiny-model run does not say its text is random-model output (%v):\n%s", err, card)
	}
	// A Modelfile that could not be written is said where the run reports,
	// not only in the file's comment.
	if mf, _ := os.ReadFile(filepath.Join(dir, "build", "modelfiles", "ada-physics.Modelfile")); strings.HasPrefix(string(mf), "# This model cannot be written") {
		if a := actions(res)["create"]; !strings.Contains(a.Summary, "no Modelfile") {
			t.Errorf("the Modelfile holds only a comment and the create summary does not say so: %q", a.Summary)
		}
	}
	if next := strings.Join(NextSteps(cfg), "\n"); strings.Contains(next, "publish hf") || strings.Contains(next, "tuningJobs") || !strings.Contains(next, "random-model output") {
		t.Errorf("the next steps of a tiny-model run offer to publish it:\n%s", next)
	}

	// The hand-off: the serve command printed at the end works as printed
	// (the run's own server has stopped) and serves the created model.
	steps := NextSteps(cfg)
	t.Log(strings.Join(steps, "\n"))
	var serve string
	for _, l := range steps {
		if strings.Contains(l, " serve &") {
			serve = strings.TrimSuffix(strings.TrimSpace(l), " &")
		}
	}
	if serve == "" {
		t.Fatalf("no serve command in the next steps:\n%s", strings.Join(steps, "\n"))
	}
	cmd := exec.Command("/bin/sh", "-c", serve) // as a user would paste it (without the &)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + HandoffAddr + "/api/tags")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), `"ada-physics`) {
				t.Errorf("the served models folder lacks the created model: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the printed command did not serve on %s: %v", HandoffAddr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A damaged source does not stop the run: every stage runs on the rest, and
// the run ends with an error (exit 1) that names the source; the next run
// tries it again (and fails again), redoing nothing else.
func TestRunDamagedSource(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := workspace(t, srv.URL)
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	s := strings.Replace(string(b), "pairs: 2", "pairs: 1", 1)
	s = strings.Replace(s, "chunk_tokens: 120", "chunk_tokens: 400", 1)
	s += "\neval: {enabled: false}\n"
	os.WriteFile(ws, []byte(s), 0o644)
	os.WriteFile(filepath.Join(dir, "sources", "damaged.pdf"), []byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n"), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Every synth progress update comes with a note naming the level of
	// parallel requests (what the progress lines show).
	act := llm.NewActivity()
	var notes []string
	progress := func(stage string, done, total int) {
		if stage == "synth" {
			notes = append(notes, act.Note())
		}
	}
	var log strings.Builder
	res, err := Run(llm.WithActivity(context.Background(), act), cfg, Options{Version: "test", Log: &log, Progress: progress})
	if len(notes) == 0 {
		t.Error("no synth progress")
	}
	for _, n := range notes {
		if !strings.Contains(n, "parallel ") {
			t.Errorf("a synth progress note does not name the level: %q", n)
			break
		}
	}
	var partial *PartialError
	if !errors.As(err, &partial) || len(partial.Failed) != 1 || !strings.Contains(err.Error(), "ingest: sources/damaged.pdf: ") {
		t.Fatalf("run with a damaged source: %v\n%s", err, log.String())
	}
	for _, st := range onStages(t, res, "eval") {
		if a := actions(res)[st]; a.Action != "ran" && st != "eval" {
			t.Errorf("%s %s (%s): the rest should be done", st, a.Action, a.Reason)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "build/export/openai/train.jsonl")); err != nil {
		t.Error(err)
	}
	res, err = Run(context.Background(), cfg, Options{Version: "test", Log: &log})
	if !errors.As(err, &partial) {
		t.Errorf("second run: %v", err)
	}
	if a := actions(res); a["ingest"].Action != "ran" || !strings.Contains(a["ingest"].Reason, "failed last time") || a["synth"].Action != "skipped" {
		t.Errorf("second run: ingest %+v, synth %+v", a["ingest"], a["synth"])
	}
}
