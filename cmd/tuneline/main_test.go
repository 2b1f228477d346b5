package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/envconfig"
	"github.com/tuneline/tuneline/internal/testenv"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/pipelines"
)

var corpora = testenv.Corpus("chat-samples") + "/"

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = Run(context.Background(), append([]string{"tuneline"}, args...), ios)
	return code, out.String(), errOut.String()
}

func TestValidateToy(t *testing.T) {
	code, out, _ := run(t, "validate", corpora+"openai-cookbook/toy_chat_fine_tuning.jsonl")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (warnings only)\n%s", code, out)
	}
	for _, want := range []string{"5 examples (openai 5): 5 valid, 0 with errors", "Errors: none", "missing_system                   1",
		"missing_user                     1", "min 26, max 8032", "1 examples over 4096 tokens", "4306 billable tokens", "86120 tokens charged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateJSONAndErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}
{"messages":[{"role":"user","content":"q"}
{"messages":[{"role":"user","content":"q"},{"role":"bot","content":"a"}]}
`), 0o644)
	code, out, errOut := run(t, "validate", "--json", bad)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	var s struct {
		Examples, Invalid int
		Errors            map[string]int
		Issues            []struct{ Where, Category string }
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if s.Examples != 3 || s.Invalid != 2 || s.Errors["invalid_json"] != 1 || s.Errors["unknown_role"] != 1 {
		t.Errorf("summary %+v", s)
	}
	wheres := map[string]bool{}
	for _, is := range s.Issues {
		wheres[is.Where+" "+is.Category] = true
	}
	if !wheres[bad+":2 invalid_json"] || !wheres[bad+":3 unknown_role"] {
		t.Errorf("issues do not name file:line: %+v", s.Issues)
	}
	if !strings.Contains(errOut, "2 of 3 examples have errors") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"validate"},
		{"export", "x.jsonl"}, // --format is required
		{"export", "--format", "csv", "x.jsonl"},
		{"export", "--bogus"},
		{"nosuchcommand"},
	} {
		code, _, errOut := run(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
		if errOut == "" {
			t.Errorf("%v: no message on stderr", args)
		}
	}
}

func TestMissingFile(t *testing.T) {
	code, _, errOut := run(t, "validate", "/nonexistent/data.jsonl")
	if code != ExitFailure || !strings.Contains(errOut, "/nonexistent/data.jsonl") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := run(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "tuneline version ") {
		t.Errorf("--version: %d %q", code, out)
	}
	code, out, _ = run(t, "--help")
	if code != 0 || !strings.Contains(out, "EXIT CODES") {
		t.Errorf("--help: %d %q", code, out)
	}
	for _, cmd := range []string{"validate", "export"} {
		code, out, _ := run(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "EXAMPLES") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", cmd, code, out)
		}
	}
}

func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "export", "--format", "vertex", "--out", dir, "--split", "0.5",
		corpora+"vertex-gemini/patient_1_glucose_examples.jsonl", corpora+"llama-factory/identity.json", corpora+"llama-factory/mllm_demo.json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"98 examples read", "invalid:unsupported_media", "limit validation examples"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var line struct {
		Contents []struct {
			Role  string
			Parts []struct{ Text string }
		}
	}
	first := strings.SplitN(string(b), "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &line); err != nil || len(line.Contents) < 2 ||
		line.Contents[0].Role != "user" || line.Contents[len(line.Contents)-1].Role != "model" {
		t.Errorf("vertex line %s (%v)", first, err)
	}
}

// Vertex allows at most 5,000 validation examples: exceeding it is reported
// with exit code 3.
func TestExportVertexLimit(t *testing.T) {
	in := filepath.Join(t.TempDir(), "many.jsonl")
	var sb strings.Builder
	for i := range 5200 {
		sb.WriteString(`{"messages":[{"role":"user","content":"question number ` + itoa(i) + `"},{"role":"assistant","content":"answer ` + itoa(i*7) + `"}]}` + "\n")
	}
	os.WriteFile(in, []byte(sb.String()), 0o644)
	code, out, errOut := run(t, "export", "--format", "vertex", "--near-dup", "0", "--split", "0.01", "--out", t.TempDir(), in)
	if code != ExitLimits || !strings.Contains(out, "EXCEEDED") || !strings.Contains(errOut, "limits") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "chunks.jsonl")
	exs := filepath.Join(dir, "examples.jsonl")
	code, stdout, stderr := run(t, "ingest", "--json", "--out", out, "--examples", exs, "--chunk-tokens", "200",
		testenv.Corpus("pdf-samples/001-trivial/minimal-document.pdf"),
		testenv.Corpus("subtitles/sintel/sintel_en.srt"),
		corpora+"openai-cookbook/toy_chat_fine_tuning.jsonl",
		"../../examples/chat/README.md")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var sum struct {
		Documents, Chunks, Examples int
		Kinds                       map[string]int
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	if sum.Documents != 4 || sum.Examples != 5 || sum.Kinds["pdf"] != 1 || sum.Kinds["srt"] != 1 || sum.Kinds["chat"] != 1 {
		t.Errorf("summary %+v", sum)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != sum.Chunks {
		t.Errorf("%d chunk lines, summary says %d", len(lines), sum.Chunks)
	}
	var c struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(lines[0]), &c)
	if !strings.HasPrefix(c.ID, "ch-") {
		t.Errorf("chunk %s", lines[0])
	}
	// a missing source fails at the end, after the others
	code, _, stderr = run(t, "ingest", "--out", filepath.Join(dir, "c2.jsonl"), "../../examples/chat/README.md", filepath.Join(dir, "nope.pdf"))
	if code != ExitUsage && code != ExitFailure {
		t.Errorf("missing source: exit %d (%s)", code, stderr)
	}
}

// Usage errors exit 2 wherever they stand, with words that say what to do;
// global flags may follow the command.
func TestUsageErrorsAnywhere(t *testing.T) {
	toy := corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nosuchcmd"}, ExitUsage, `unknown command "nosuchcmd" (commands: init, run,`},
		{[]string{"valdate", toy}, ExitUsage, `unknown command "valdate"; did you mean "validate"?`},
		{[]string{"validate", "--bogus", toy}, ExitUsage, "flag provided but not defined: -bogus (see tuneline validate --help)"},
		{[]string{"validate", toy, "--bogus"}, ExitUsage, "flag provided but not defined: -bogus"},
		{[]string{"validate", toy, "-q"}, ExitOK, ""},
		{[]string{"-q", "validate", toy}, ExitOK, ""},
		{[]string{"export", "--format", "hf", "--language", "English", "--out", t.TempDir(), toy}, ExitFailure, `language "English" is not a language code`},
		// Vertex holds no preference pairs: nothing written is a failure.
		{[]string{"export", "--format", "vertex", "--out", t.TempDir(), corpora + "llama-factory/dpo_en_demo.json"}, ExitFailure, "export: no example was written: all 300 read were left out"},
	} {
		code, _, errOut := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q, want %q", tt.args, code, tt.code, errOut, tt.want)
		}
	}
}

// The completion scripts come out for each shell, and the bash one
// completes a command from tuneline's own list.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, _ := run(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "tuneline") {
			t.Errorf("%s: exit %d, %d bytes", sh, code, len(out))
		}
	}
	if code, _, _ := run(t, "completion", "powershell"); code != ExitUsage {
		t.Errorf("unknown shell: exit %d", code)
	}
	// urfave/cli reads os.Args for completion: run it as its own process.
	b, err := subCLI("--generate-bash-completion").Output()
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, c := range []string{"validate", "export", "completion"} {
		if !strings.Contains(out, c+"\n") {
			t.Errorf("completion words lack %s: %q", c, out)
		}
	}
}

// The newcomer's path: init, then run at once. run exits 1 naming
// persona.yaml, with nothing started (the ollama host is unreachable and
// local never, so anything past the check would fail otherwise).
func TestRunUneditedInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	if code, _, errOut := run(t, "init", dir); code != ExitOK {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	t.Setenv("OLLAMA_HOST", "127.0.0.1:9")
	code, _, errOut := run(t, "run", dir)
	if code != 1 || !strings.Contains(errOut, "persona.yaml:") || !strings.Contains(errOut, "placeholder") {
		t.Errorf("run of an unedited init workspace: exit %d\n%s", code, errOut)
	}
}

// A library's complaint about a setting names it as the flag the user
// typed (the workspace run names it as its tuneline.yaml key).
func TestSettingErrorsNameTheFlag(t *testing.T) {
	in := filepath.Join(t.TempDir(), "a.jsonl")
	os.WriteFile(in, []byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`+"\n"), 0o644)
	for _, args := range [][]string{{"--split", "1.5"}, {"--near-dup", "1"}, {"--kind", "both"}, {"--compression", "lz4"}} {
		code, _, errOut := run(t, append([]string{"export", "--format", "hf", "--out", filepath.Join(t.TempDir(), "o"), in}, args...)...)
		if code == ExitOK || !strings.Contains(errOut, args[0]+" ") || strings.Contains(errOut, "export.") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}

// tuneline --help lists every environment variable of the table.
func TestHelpListsEnvironment(t *testing.T) {
	_, out, _ := run(t, "--help")
	for _, v := range envconfig.Vars {
		if !strings.Contains(out, v.Name) {
			t.Errorf("--help does not list $%s", v.Name)
		}
	}
}

// export without arguments names what is missing in a short usage line,
// not the whole help; the help lists every stage run runs.
func TestExportNoArgsAndRunHelp(t *testing.T) {
	code, out, errOut := run(t, "export")
	want := "tuneline: export: give --format (openai | sharegpt | alpaca | vertex | hf) and the input FILE...\nusage: tuneline export --format FORMAT [--out DIR] FILE...  (see tuneline export --help)\n"
	if code != ExitUsage || out != "" || errOut != want {
		t.Errorf("export with no arguments: exit %d\nstdout %q\nstderr %q\nwant %q", code, out, errOut, want)
	}
	if _, _, errOut := run(t, "export", "x.jsonl"); !strings.Contains(errOut, "give --format (") || strings.Contains(errOut, "input FILE") {
		t.Errorf("export without --format: %q", errOut)
	}
	_, help, _ := run(t, "--help")
	for _, line := range strings.Split(help, "\n") {
		if strings.Contains(line, " run ") && strings.Contains(line, "run a workspace") {
			for _, st := range pipelines.Stages {
				if !strings.Contains(line, st) {
					t.Errorf("the help's run line leaves out %s: %q", st, line)
				}
			}
		}
	}
}
