package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/pipelines"
)

// parseOnly runs one command's flag parsing with a runF hook that keeps
// the options and runs nothing.
func parseOnly[O any](t *testing.T, newCmd func(*iostreams.IOStreams, func(context.Context, *O) error) *cli.Command, args ...string) *O {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *O
	cmd := newCmd(ios, func(_ context.Context, o *O) error { got = o; return nil })
	// The real app, its command swapped for one that only captures: the
	// app's own settings (slice flags never split) apply.
	app := newApp(ios)
	for i, c := range app.Commands {
		if c.Name == cmd.Name {
			app.Commands[i] = cmd
		}
	}
	if err := app.Run(append([]string{"tuneline", cmd.Name}, args...)); err != nil {
		t.Fatalf("%s %s: %v", cmd.Name, strings.Join(args, " "), err)
	}
	if got == nil {
		t.Fatalf("%s %s: the command did not reach its run function", cmd.Name, strings.Join(args, " "))
	}
	return got
}

func open(t *testing.T, c llm.Config) *llm.Pool {
	t.Helper()
	p, err := llm.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestFrontEndsAgree builds the same settings once as flags of synth,
// curate, eval and modelfile and once as tuneline.yaml, and checks that
// the two front ends give each stage the same options: the same judge
// model, Modelfile and parallel requests (and every other option, but for
// the paths each front end chooses). Nothing is asked of a server.
func TestFrontEndsAgree(t *testing.T) {
	personaFile, err := filepath.Abs("../../synth/testdata/persona.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := persona.Load(personaFile)
	if err != nil {
		t.Fatal(err)
	}
	dataset, err := os.ReadFile("../../examples/chat/physics-qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	const host = "127.0.0.1:1" // what discovery found (nothing listens; nothing is asked)
	cases := []struct {
		name string
		yaml string // the workspace's sections
		// the same settings as each command's flags (server flags, then
		// the command's own)
		server, synth, curate, eval, modelfile []string
		judge                                  string
		parallel                               int
	}{{
		name:      "defaults",
		yaml:      "ollama: {model: base}\nmodels: [{name: ada}]\n",
		server:    []string{"--model", "base", "--host", host},
		modelfile: []string{"--from", "base"},
		eval:      []string{"--model", "ada", "--baseline", "base"},
		judge:     "base", parallel: llm.AutoMaxLevel,
	}, {
		name: "every section set",
		yaml: `ollama: {model: base, parallel: "3", timeout: 90s}
synth: {pairs: 2, conversations: 1, turns: 2, preferences: 1, temperature: 0.2, seed: 7, retries: 0, max_answer_chars: 900}
curate: {min_score: 3.5}
create: {examples: 2, message_tokens: 100, smoke_question: "Who are you?"}
models: [{name: ada, from: base2, params: {temperature: "0.6", top_k: "20"}}]
eval: {judge: judge-model, max_tokens: 100, seed: 3, questions: 4}
`,
		server:    []string{"--model", "base", "--host", host, "--parallel", "3", "--timeout", "90s"},
		synth:     []string{"--pairs", "2", "--conversations", "1", "--turns", "2", "--preferences", "1", "--temperature", "0.2", "--seed", "7", "--retries", "0", "--max-answer-chars", "900"},
		curate:    []string{"--min-score", "3.5"},
		modelfile: []string{"--from", "base2", "--examples", "2", "--message-tokens", "100", "--param", "temperature=0.6", "--param", "top_k=20"},
		eval:      []string{"--model", "ada", "--baseline", "base", "--judge", "judge-model", "--max-tokens", "100", "--seed", "3", "--limit", "4"},
		judge:     "judge-model", parallel: 3,
	}, {
		name:      "no baseline: the first model judges",
		yaml:      "ollama: {model: base, parallel: \"2\"}\nmodels: [{name: ada, examples: 1}, {name: bob}]\neval: {baseline: false}\n",
		server:    []string{"--model", "base", "--host", host, "--parallel", "2"},
		modelfile: []string{"--from", "base", "--examples", "1"},
		eval:      []string{"--model", "ada", "--model", "bob"},
		judge:     "ada", parallel: 2,
	}, {
		name:      "two servers",
		yaml:      "ollama: {model: base, hosts: [127.0.0.1:1, 127.0.0.1:2], parallel: \"2\"}\nmodels: [{name: ada}]\n",
		server:    []string{"--model", "base", "--host", "127.0.0.1:1", "--host", "127.0.0.1:2", "--parallel", "2"},
		modelfile: []string{"--from", "base"},
		eval:      []string{"--model", "ada", "--baseline", "base"},
		judge:     "base", parallel: 4,
	}, {
		name:      "openai-compatible server",
		yaml:      "ollama: {api: openai, base_url: \"http://127.0.0.1:1/v1\", model: base, parallel: \"5\"}\nmodels: [{name: ada}]\n",
		server:    []string{"--api", "openai", "--base-url", "http://127.0.0.1:1/v1", "--model", "base", "--parallel", "5"},
		modelfile: []string{"--from", "base"},
		eval:      []string{"--model", "ada", "--baseline", "base"},
		judge:     "base", parallel: 5,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ws := "name: ws\nsources: [sources]\npersona: " + personaFile + "\n" + tc.yaml
			if err := os.WriteFile(filepath.Join(dir, "tuneline.yaml"), []byte(ws), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := pipelines.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			files := pipelines.WorkspaceFiles(cfg)
			if err := os.MkdirAll(filepath.Dir(files.Dataset), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(files.Dataset, dataset, 0o644); err != nil {
				t.Fatal(err)
			}
			wsPool := open(t, cfg.Ollama.At(host))
			model := cfg.Ollama.Model

			// synth
			so := parseOnly(t, newSynthCmd, append(append(append([]string{"--persona", personaFile}, tc.server...), tc.synth...), "chunks.jsonl")...)
			so.Persona, so.Model = p, so.Server.Model
			cliPool := open(t, so.Server)
			so.assemble(cliPool)
			wsSynth := cfg.SynthOptions(model, p, wsPool)
			if so.Parallel != tc.parallel || wsSynth.Parallel != tc.parallel {
				t.Errorf("synth parallel: CLI %d, workspace %d, want %d", so.Parallel, wsSynth.Parallel, tc.parallel)
			}
			same(t, "synth", so.Options, wsSynth, "Backend", "Persona", "CacheDir", "Progress")

			// curate
			co := parseOnly(t, newCurateCmd, append(append([]string{"--persona", personaFile}, tc.server...), append(tc.curate, "examples.jsonl")...)...)
			co.Persona, co.Model = p, co.Server.Model
			co.assemble(open(t, co.Server))
			wsCurate := cfg.CurateOptions(model, "", p, wsPool)
			if co.Parallel != tc.parallel || wsCurate.Parallel != tc.parallel {
				t.Errorf("curate parallel: CLI %d, workspace %d, want %d", co.Parallel, wsCurate.Parallel, tc.parallel)
			}
			same(t, "curate", co.CurateOptions, wsCurate, "Backend", "Persona", "CacheDir", "Progress")

			// eval: the server flags without --model (eval's --model names
			// the models asked)
			var evalServer []string
			for i := 0; i < len(tc.server); i++ {
				if tc.server[i] == "--model" {
					i++
					continue
				}
				evalServer = append(evalServer, tc.server[i])
			}
			eo := parseOnly(t, newEvalCmd, append(append([]string{"--persona", personaFile}, evalServer...), tc.eval...)...)
			eo.Persona = p
			cliTargets := eo.plan(open(t, eo.Server))
			wsTargets, wsEval := cfg.EvalPlan(model, p, wsPool)
			if eo.Options.Judge != tc.judge || wsEval.Judge != tc.judge {
				t.Errorf("eval judge: CLI %q, workspace %q, want %q", eo.Options.Judge, wsEval.Judge, tc.judge)
			}
			if eo.Options.Parallel != tc.parallel || wsEval.Parallel != tc.parallel {
				t.Errorf("eval parallel: CLI %d, workspace %d, want %d", eo.Options.Parallel, wsEval.Parallel, tc.parallel)
			}
			if !reflect.DeepEqual(cliTargets, wsTargets) {
				t.Errorf("eval targets:\nCLI       %+v\nworkspace %+v", cliTargets, wsTargets)
			}
			same(t, "eval", eo.Options, wsEval, "Backend", "Persona", "CacheDir", "Progress")
			if eo.Config.Questions != cfg.Eval.Questions {
				t.Errorf("eval questions: CLI %d, workspace %d", eo.Config.Questions, cfg.Eval.Questions)
			}

			// the Modelfile of the first model
			mo := parseOnly(t, newModelfileCmd, append([]string{"--persona", personaFile, "--dataset", files.Dataset}, tc.modelfile...)...)
			cliSpec, _, err := mo.spec(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wsSpec, _, err := cfg.ModelSource(cfg.Models[0], model, files.Dataset).Build(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			cliText, err := cliSpec.Render()
			if err != nil {
				t.Fatal(err)
			}
			wsText, err := wsSpec.Render()
			if err != nil {
				t.Fatal(err)
			}
			if cliText != wsText {
				t.Errorf("Modelfiles differ:\nCLI:\n%s\nworkspace:\n%s", cliText, wsText)
			}
			if !strings.Contains(cliText, "MESSAGE user") || !strings.Contains(cliText, "SYSTEM ") {
				t.Errorf("the Modelfile lacks the persona or the few-shot turns:\n%s", cliText)
			}
		})
	}
}

// same fails when two option structs differ in a field other than those
// skipped (the backend each front end opened, the persona each loaded,
// paths and progress).
func same(t *testing.T, what string, cli, ws any, skip ...string) {
	t.Helper()
	a, b := reflect.ValueOf(cli), reflect.ValueOf(ws)
	for i := range a.NumField() {
		name := a.Type().Field(i).Name
		if contains(skip, name) {
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			t.Errorf("%s %s: CLI %v, workspace %v", what, name, a.Field(i).Interface(), b.Field(i).Interface())
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestEvalHonoursBuild: eval's default questions are the validation split
// under the build: folder of the workspace in the current folder.
func TestEvalHonoursBuild(t *testing.T) {
	dir := t.TempDir()
	ws := "sources: [sources]\npersona: persona.yaml\nbuild: out/b2\n"
	if err := os.WriteFile(filepath.Join(dir, "tuneline.yaml"), []byte(ws), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got, err := defaultQuestions()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "out", "b2", "export", "openai", "validation.jsonl"); got != want && got != filepath.Join("out", "b2", "export", "openai", "validation.jsonl") {
		t.Errorf("default questions %s, want %s", got, want)
	}
	// Without a question file there, eval says where it looked.
	code, _, errOut := run(t, "eval", "--model", "m", "--host", "127.0.0.1:1")
	if code != ExitUsage || !strings.Contains(errOut, filepath.Join("out", "b2", "export", "openai", "validation.jsonl")) {
		t.Errorf("exit %d, want %d naming out/b2's split:\n%s", code, ExitUsage, errOut)
	}
	// A folder without a workspace: the default layout's.
	t.Chdir(t.TempDir())
	if got, _ := defaultQuestions(); got != filepath.Join("build", "export", "openai", "validation.jsonl") {
		t.Errorf("no workspace: default questions %s", got)
	}
}

// TestRunOptions: run's flags and argument reach its options (through the
// runF hook; nothing runs).
func TestRunOptions(t *testing.T) {
	o := parseOnly(t, newRunCmd, "--from", "curate", "--only", "export", "-n", "--force", "--json", "-v", "ws")
	if o.Path != "ws" || o.From != "curate" || o.Only != "export" || !o.DryRun || !o.Force || !o.JSON || !o.Verbose {
		t.Errorf("options %+v", o)
	}
	if o := parseOnly(t, newRunCmd); o.Path != "." || o.DryRun {
		t.Errorf("no argument: options %+v", o)
	}
}
