package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/persona"
)

// Every field of every stage's Config is in the scaffold, with its default
// and a comment, and the scaffold loads back to the defaults.
func TestScaffoldHasEveryField(t *testing.T) {
	text := string(Scaffold(InitOptions{Name: "my-expert", Model: "llama3.2"}))
	d := DefaultConfig()
	for name, sec := range sections(&d) {
		i := strings.Index(text, "\n"+name+":\n")
		if i < 0 {
			t.Fatalf("scaffold has no %s section:\n%s", name, text)
		}
		body := text[i+len(name)+3:]
		if j := strings.Index(body, "\n\n"); j >= 0 {
			body = body[:j]
		}
		for _, f := range conf.Fields(sec) {
			if f.Key == "-" {
				continue // flag only (a secret): never in the file
			}
			if f.Help == "" {
				t.Errorf("%s.%s has no help text", name, f.Key)
			}
			line := ""
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), f.Key+":") {
					line = l
				}
			}
			if line == "" {
				t.Errorf("scaffold's %s section lacks %s:\n%s", name, f.Key, body)
				continue
			}
			if !strings.Contains(line, "# ") {
				t.Errorf("%s.%s has no comment: %q", name, f.Key, line)
			}
		}
	}
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Name: "my-expert", Model: "llama3.2"}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Name, want.Sources, want.Persona, want.Ollama.Model = "my-expert", []string{"sources/"}, "persona.yaml", "llama3.2"
	want.Models = []Model{{Name: "my-expert", From: "llama3.2", Params: map[string]string{"temperature": "0.6"}}}
	got.dir = ""
	got.Ollama.APIKey = ""
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("the scaffold loads as\n%+v\nwant the defaults\n%+v", *got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, GettingStarted)); err != nil {
		t.Error(err)
	}
	// Nothing init writes is a source: sources/ is there, and empty.
	if files, _, err := ingest.Expand([]string{filepath.Join(dir, "sources")}); err != nil || len(files) != 0 {
		t.Errorf("init wrote sources %v (%v): they would become training data", files, err)
	}
	if _, err := Init(dir, InitOptions{}); err == nil {
		t.Error("init overwrote a workspace")
	}
}

// Every setting a stage's command takes as a flag is a key of its
// workspace section, and the other way round (but for the workspace-only
// switches and the secret key, which comes from the environment).
func TestFlagsAndWorkspaceAgree(t *testing.T) {
	d := DefaultConfig()
	for name, sec := range sections(&d) {
		for _, f := range conf.Fields(sec) {
			switch {
			case f.Key == "-" && f.Env == "":
				t.Errorf("%s: --%s is a flag only and has no environment variable", name, f.Flag)
			case f.Flag == "" && !workspaceOnly[f.Key]:
				t.Errorf("%s.%s has no flag", name, f.Key)
			}
		}
	}
	// A workspace value reaches the stage: a non-default of each kind.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tuneline.yaml"), []byte(`sources: [s/]
persona: p.yaml
ollama: {api: openai, base_url: "http://127.0.0.1:1/v1", hosts: ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"], model: m, parallel: 3, timeout: 90s}
ingest: {chunk_tokens: 100}
synth: {max_answer_chars: 99, temperature: 0.2}
export: {near_dup: 0, language: "en,de"}
create: {message_tokens: 77}
eval: {judge: j, questions: 0}
`), 0o644)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ollama.API != "openai" || c.Ollama.Parallel != "3" || len(c.Ollama.Servers()) != 2 || c.Ollama.Timeout.Seconds() != 90 || c.Ingest.ChunkTokens != 100 || c.Ingest.Overlap != 64 ||
		c.Synth.MaxAnswerChars != 99 || c.Synth.Temperature != 0.2 || c.Synth.Turns != 3 || c.Export.NearDup != 0 || c.Export.Language != "en,de" ||
		c.Create.MessageTokens != 77 || c.Create.Examples != 3 || c.Eval.Judge != "j" || c.Eval.Questions != 0 {
		t.Errorf("loaded %+v", c)
	}
}

// host is the one-server key of older workspaces; --host (repeated) fills
// hosts.
var workspaceOnly = map[string]bool{"enabled": true, "local": true, "formats": true, "baseline": true, "host": true,
	// publish: the destinations are the commands' arguments.
	"hf_repo": true, "gcs": true, "gcs_format": true}

// A second run on a busy workspace refuses at once, naming the holder.
func TestWorkspaceLock(t *testing.T) {
	build := t.TempDir()
	unlock, err := lockWorkspace(build)
	if err != nil {
		t.Fatal(err)
	}
	// Another process: flock is per open file, so a second open in this
	// process conflicts as another process's would.
	start := time.Now()
	_, err = lockWorkspace(build)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || time.Since(start) > time.Second {
		t.Fatalf("second lock: %v after %v", err, time.Since(start))
	}
	unlock()
	unlock2, err := lockWorkspace(build)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}

// A typo in tuneline.yaml is named with its line and section, and the
// nearest key is suggested; a key of another section says which.
func TestUnknownKeys(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"synth:\n  pairz: 2\n", `tuneline.yaml:5: unknown key "pairz" in synth:; did you mean "pairs"?`},
		{"synth:\n  parallel: 2\n", `tuneline.yaml:5: unknown key "parallel" in synth: (parallel is a key of ollama:)`},
		{"ingest:\n  chunk_token: 100\n", `did you mean "chunk_tokens"?`},
		{"sourcez: [x]\n", `tuneline.yaml:4: unknown key "sourcez" at the top level; did you mean "sources"?`},
		{"models:\n  - name: a\n    form: llama3.2\n", `tuneline.yaml:6: unknown key "form" in models:; did you mean "from"?`},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "tuneline.yaml"), []byte("name: x\nsources: [s/]\npersona: p.yaml\n"+tt.yaml), 0o644)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "pipelines.") {
			t.Errorf("%q: %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tuneline.yaml"), nil, 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("empty file: %v", err)
	}
}

// Examples from chat logs get the persona's system prompt and ids from
// their content (a log's own "2", "3" repeat across logs).
func TestChatLogExamples(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, Options{Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	p, _ := persona.Load(cfg.Path(cfg.Persona))
	n := 0
	ids := map[string]bool{}
	for rec, err := range datasets.ReadFile(context.Background(), WorkspaceFiles(cfg).ChatLogs) {
		if err != nil || rec.Err != nil {
			t.Fatal(err, rec.Err)
		}
		ex := rec.Example
		n++
		if ex.System() != strings.TrimRight(p.System, "\n") {
			t.Errorf("example %s has system %q", ex.ID, ex.System())
		}
		if !strings.HasPrefix(ex.ID, "ex-") || ids[ex.ID] || ex.ID != datasets.ContentID(ex.Messages) {
			t.Errorf("id %q is not the content's, or repeats", ex.ID)
		}
		ids[ex.ID] = true
	}
	if n == 0 {
		t.Fatal("no chat-log examples")
	}
}

// The end of a run names its outputs and the next commands, and claims no
// model that models.json does not list.
func TestNextSteps(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Export.Formats = []string{"openai", "hf", "vertex"}
	build := cfg.Path(cfg.Build)
	for _, f := range []string{"hf", "vertex"} {
		os.MkdirAll(filepath.Join(build, "export", f), 0o755)
		os.WriteFile(filepath.Join(build, "export", f, "export-report.json"), []byte("{}"), 0o644)
	}
	text := strings.Join(NextSteps(cfg), "\n")
	if strings.Contains(text, "ollama run") || strings.Contains(text, "export openai") {
		t.Errorf("claims what does not exist:\n%s", text)
	}
	for _, want := range []string{"tuneline publish hf YOUR-NAME/physics-expert " + filepath.Join(build, "export", "hf"),
		"gcloud storage cp " + filepath.Join(build, "export", "vertex", "train.jsonl"), `"trainingDatasetUri": "gs://YOUR-BUCKET/physics-expert/train.jsonl"`} {
		if !strings.Contains(text, want) {
			t.Errorf("next steps lack %q:\n%s", want, text)
		}
	}
	ms, _ := json.Marshal([]CreatedModel{{Name: "ada-physics", From: "tiny", ModelsDir: filepath.Join(build, "ollama", "models")}})
	os.WriteFile(filepath.Join(build, "models.json"), ms, 0o644)
	text = strings.Join(NextSteps(cfg), "\n")
	if !strings.Contains(text, "OLLAMA_MODELS="+filepath.Join(build, "ollama", "models")+" OLLAMA_HOST="+HandoffAddr) ||
		!strings.Contains(text, "run ada-physics") {
		t.Errorf("no hand-off command:\n%s", text)
	}
}

// init asks nothing and assumes nothing physics: names come from the
// options or neutral placeholders, and the persona loads.
func TestInitIsNeutral(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "support")
	if _, err := Init(dir, InitOptions{PersonaName: "Sam from support", Model: "qwen2.5:7b"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := persona.Load(cfg.Path(cfg.Persona))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "support" || cfg.Ollama.Model != "qwen2.5:7b" || cfg.Models[0].Name != "support" || p.Name != "Sam from support" {
		t.Errorf("workspace %q model %q models %+v persona %q", cfg.Name, cfg.Ollama.Model, cfg.Models, p.Name)
	}
	for _, f := range []string{"tuneline.yaml", "persona.yaml"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		for _, word := range []string{"physic", "Ada", "ada-"} {
			if strings.Contains(string(b), word) {
				t.Errorf("%s mentions %q", f, word)
			}
		}
	}
}

// The report renders for a partial build with what exists (here: only
// ingest ran, so the chat logs' examples), and says what to run when
// there is nothing.
func TestReportPartialBuild(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	if err := WriteReport(context.Background(), cfg, out, "test"); err == nil || !strings.Contains(err.Error(), "run the ingest and synth stages first") {
		t.Errorf("empty build: %v", err)
	}
	if _, err := Run(context.Background(), cfg, Options{Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(context.Background(), cfg, out, "test"); err != nil {
		t.Fatalf("partial build: %v", err)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "office-hours.chatlog.jsonl") {
		t.Error("the chat-log source is not in the partial report")
	}
}

// A full build's report counts the generated examples and the chat logs'
// together, as the export does, and shows the chat-log source.
func TestReportCountsChatLogs(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, Options{Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	f := WorkspaceFiles(cfg)
	var curated strings.Builder
	for i := range 3 {
		fmt.Fprintf(&curated, `{"id":"ex-%d","messages":[{"role":"user","content":"q%d"},{"role":"assistant","content":"a%d"}],"meta":{"source":"sources/quantum-notes.md"}}`+"\n", i, i, i)
	}
	os.WriteFile(f.Dataset, []byte(curated.String()), 0o644)
	nChat, _ := datasets.CountLines(f.ChatLogs)
	out := filepath.Join(t.TempDir(), "r.html")
	if err := WriteReport(context.Background(), cfg, out, "test"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), fmt.Sprintf(`"examples":%d`, 3+nChat)) || !strings.Contains(string(b), "office-hours.chatlog.jsonl") {
		t.Errorf("the report does not count the %d chat-log examples with the 3 curated ones, or lacks their source", nChat)
	}
}

// An unedited init workspace does not run: the placeholder persona would
// become every example's voice. The refusal names the file and line and
// comes before anything is built or started; once edited, the run gets past
// it (and stops at the empty sources/, which it names).
func TestRunRefusesPlaceholderPersona(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Name: "fresh"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ollama.Local = "never"
	cfg.Ollama.Hosts = []string{"http://127.0.0.1:9"}
	for _, dry := range []bool{false, true} {
		_, err = Run(context.Background(), cfg, Options{Version: "test", DryRun: dry})
		if err == nil || !strings.Contains(err.Error(), "persona.yaml:") || !strings.Contains(err.Error(), "placeholder") {
			t.Errorf("dry run %v: unedited workspace: %v", dry, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "build")); err == nil {
		t.Error("the refused run made build/")
	}
	p := filepath.Join(dir, "persona.yaml")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.ReplaceAll(string(b), PersonaPlaceholder, "optics")), 0o644)
	_, err = Run(context.Background(), cfg, Options{Version: "test"})
	if err == nil || !strings.Contains(err.Error(), "no source file in sources/") {
		t.Errorf("edited persona, empty sources/: %v", err)
	}
}

// TestFormatsHelpNamesEveryTarget: the scaffold's comment on
// export.formats (a struct tag, which cannot iterate the registry) lists
// every export target.
func TestFormatsHelpNamesEveryTarget(t *testing.T) {
	f, _ := reflect.TypeOf(ExportSection{}).FieldByName("Formats")
	help := f.Tag.Get("help")
	for _, n := range format.Targets {
		if !strings.Contains(help, n) {
			t.Errorf("export.formats help %q does not name %s", help, n)
		}
	}
}

// Ctrl-C during synth is an interruption, not a failure: the result says
// how long the stage worked and that the next run resumes (it said "synth
// failed 0.0 context canceled"). The server here answers the preflight and
// never replies to a chat.
func TestRunInterruptedSays(t *testing.T) {
	end := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/version":
			fmt.Fprint(w, `{"version":"0.6.5"}`)
		case "/api/show":
			fmt.Fprint(w, `{"model_info":{"llama.context_length":8192}}`)
		case "/api/chat":
			select {
			case <-r.Context().Done():
			case <-end:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(end)
	dir := workspace(t, srv.URL)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := func(stage string, done, total int) {
		if stage == "synth" {
			time.AfterFunc(1500*time.Millisecond, cancel)
		}
	}
	res, err := Run(ctx, cfg, Options{Version: "test", Progress: progress})
	if !errors.Is(err, context.Canceled) || res == nil || len(res.Stages) == 0 {
		t.Fatalf("run: %v", err)
	}
	last := res.Stages[len(res.Stages)-1]
	if last.Stage != "synth" || last.Action != "interrupted" || last.Seconds < 1 || !strings.HasPrefix(last.Reason, "interrupted after ") ||
		!strings.Contains(last.Reason, "the next run resumes") || !strings.Contains(err.Error(), "interrupted after") {
		t.Errorf("interrupted synth: %+v (%v)", last, err)
	}
}

// Every missing source is named at once, with its tuneline.yaml line; a
// dry run says the stage would fail (not that outputs are kept).
func TestMissingSourcesNamedAtOnce(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	s := strings.Replace(string(b), "sources:\n", "sources:\n  - gone-1.pdf\n  - notes/*.md\n  - gone-2/\n", 1)
	os.WriteFile(ws, []byte(s), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		_, err := Run(context.Background(), cfg, Options{Version: "test", DryRun: dry})
		msg := fmt.Sprint(err)
		for _, want := range []string{"3 of ", `tuneline.yaml:`, `source "gone-1.pdf"`, `source "notes/*.md"`, `source "gone-2/"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("dry run %v: %q lacks %q", dry, msg, want)
			}
		}
		if dry != strings.Contains(msg, "would fail") || dry == strings.Contains(msg, "outputs are kept") {
			t.Errorf("dry run %v: %q", dry, msg)
		}
	}
}
