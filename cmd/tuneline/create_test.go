package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
)

func show(t *testing.T, host, name string) *api.ShowResponse {
	t.Helper()
	c, err := llm.NewOllama(host)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.API().Show(context.Background(), &api.ShowRequest{Model: name})
	if err != nil {
		t.Fatalf("show %s: %v", name, err)
	}
	return r
}

func exists(t *testing.T, host, name string) bool {
	c, _ := llm.NewOllama(host)
	list, err := c.API().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Models {
		if m.Name == name || m.Name == name+":latest" {
			return true
		}
	}
	return false
}

const hostilePersona = `name: hostile
system: "She said \"\"\"hi\"\"\"\n\tthen a backslash \\ and é, 物理, 😀\n  indented line\n\"\"\""
`

// A persona plus a dataset becomes a created, smoke-tested model in one
// command; the server's Modelfile holds the persona, parameters and
// few-shot messages; a second create re-uses the uploaded weights.
func TestCreateFromLocalGGUF(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	gguf := filepath.Join(dir, "base.gguf")
	if err := localollama.WriteTinyGGUF(gguf, 5); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "create", "ada-test", "--host", srv.URL, "--from", gguf, "--template", "auto",
		"--persona", "../../synth/testdata/persona.yaml", "--dataset", "../../examples/chat/physics-qa.jsonl", "--examples", "2",
		"--param", "temperature=0.4", "--param", "num_ctx=4096", "--param", "stop=<|im_end|>", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var res modelfile.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Digest == "" || res.Size == 0 || res.Uploaded != 1 || res.Smoke == nil || !res.Smoke.OK {
		t.Fatalf("result %s", out)
	}
	s := show(t, srv.URL, "ada-test")
	for _, want := range []string{"Professor Ada Whitfield", "PARAMETER temperature 0.4", "PARAMETER num_ctx 4096", "PARAMETER stop <|im_end|>",
		"MESSAGE user Why does time seem to slow down near a black hole?", "MESSAGE assistant"} {
		if !strings.Contains(s.Modelfile, want) {
			t.Errorf("show --modelfile lacks %q:\n%s", want, s.Modelfile)
		}
	}
	if !strings.Contains(s.Template, "<|im_start|>") {
		t.Errorf("template auto should add ChatML to a GGUF without one: %q", s.Template)
	}
	// Same weights again: nothing uploaded.
	code, out, _ = run(t, "create", "ada-test2", "--host", srv.URL, "--from", gguf, "--persona", "../../synth/testdata/persona.yaml", "--no-smoke", "--json")
	json.Unmarshal([]byte(out), &res)
	if code != 0 || res.Uploaded != 0 || res.Reused != 1 {
		t.Errorf("second create: exit %d, %s", code, out)
	}
}

// Through the API any persona text survives exactly, even one a Modelfile
// cannot hold; modelfile refuses that one and says so.
func TestCreateHostilePersonaAndModelfile(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "hostile.yaml")
	os.WriteFile(p, []byte(hostilePersona), 0o644)
	code, out, errOut := run(t, "create", "hostile", "--host", srv.URL, "--from", testenv.TinyModel, "--persona", p, "--no-smoke")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := "She said \"\"\"hi\"\"\"\n\tthen a backslash \\ and é, 物理, 😀\n  indented line\n\"\"\""
	if got := show(t, srv.URL, "hostile").System; got != want {
		t.Errorf("system through the API:\n got %q\nwant %q", got, want)
	}
	code, _, errOut = run(t, "modelfile", "--from", testenv.TinyModel, "--persona", p)
	if code == 0 || !strings.Contains(errOut, `ending with """`) || !strings.Contains(errOut, "API") {
		t.Errorf("modelfile should refuse it: exit %d, %s", code, errOut)
	}
	// A writable persona through a Modelfile and --cli.
	mf := filepath.Join(dir, "Modelfile")
	code, _, errOut = run(t, "modelfile", "--from", testenv.TinyModel, "--persona", "../../synth/testdata/persona.yaml", "--param", "top_k=20", "--out", mf)
	if code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = run(t, "create", "viacli", "--host", srv.URL, "-f", mf, "--cli", "--ollama", srv.Bin, "--no-smoke")
	if code != 0 {
		t.Fatalf("--cli: exit %d\n%s\n%s", code, out, errOut)
	}
	if s := show(t, srv.URL, "viacli"); !strings.Contains(s.System, "Ada Whitfield") || !strings.Contains(s.Modelfile, "top_k 20") {
		t.Errorf("--cli result: %q", s.Modelfile)
	}
}

// A bad adapter or an unknown parameter gives a clear error and creates
// nothing.
func TestCreateErrors(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "lora.gguf")
	os.WriteFile(bad, []byte("this is not a LoRA adapter"), 0o644)
	code, _, errOut := run(t, "create", "badadapter", "--host", srv.URL, "--from", testenv.TinyModel, "--adapter", bad, "--no-smoke")
	if code == 0 || !strings.Contains(errOut, "badadapter") || exists(t, srv.URL, "badadapter") {
		t.Errorf("bad adapter: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "create", "badparam", "--host", srv.URL, "--from", testenv.TinyModel, "--param", "temprature=0.3", "--no-smoke")
	if code == 0 || !strings.Contains(errOut, "unknown parameter 'temprature'") || exists(t, srv.URL, "badparam") {
		t.Errorf("bad param: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "create", "nobase", "--host", srv.URL, "--from", "no-such-base-model", "--no-smoke")
	if code == 0 || !strings.Contains(errOut, "ollama pull no-such-base-model") {
		t.Errorf("missing base: exit %d, %s", code, errOut)
	}
}

// A batch with one broken entry: the others are created, the table shows
// all, the exit code counts the failure.
func TestCreateBatch(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	batch := filepath.Join(dir, "models.yaml")
	os.WriteFile(batch, []byte(`parallel: 2
smoke_question: What is light?
models:
  - {name: broken, from: tiny, persona: ../../synth/testdata/persona.yaml, params: {not_a_param: "1"}}
matrix:
  name: "{persona}-{params}"
  bases: [tiny]
  personas: [../../synth/testdata/persona.yaml]
  params: [{temperature: "0.2"}, {temperature: "0.9", top_p: "0.5"}]
  dataset: ../../examples/chat/physics-qa.jsonl
  examples: 1
`), 0o644)
	code, out, errOut := run(t, "create", "--batch", batch, "--host", srv.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one failure)\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{"persona-0", "persona-1"} {
		if !exists(t, srv.URL, name) {
			t.Errorf("%s was not created", name)
		}
		if !strings.Contains(out, name) {
			t.Errorf("table lacks %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "FAILED") || !strings.Contains(out, "not_a_param") || strings.Count(out, " ok ") != 2 {
		t.Errorf("table:\n%s", out)
	}
}
