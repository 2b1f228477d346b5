package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/chatgen"
)

func genFile(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gen.jsonl")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chatgen.Write(f, n, chatgen.Options{DupRate: 0.01, NearDupRate: 0.01, BadRate: 0.01, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// Hugging Face datasets reads JSON Lines in 10 MB blocks and refuses a
// block whose columns differ from the first block's (CastError: column
// names don't match), which is how LLaMA-Factory loads sharegpt and alpaca
// files: every line must have the same keys. The generated set mixes
// examples with and without system prompts and history.
func TestJSONLExportsHaveOneKeySet(t *testing.T) {
	in := genFile(t, 30000)
	// A third of the examples lose their system prompt, so that "system"
	// is empty on some lines and present on others.
	b, _ := os.ReadFile(in)
	var out bytes.Buffer
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var ex struct {
			Messages []map[string]string `json:"messages"`
		}
		if i%3 == 0 && json.Unmarshal(line, &ex) == nil && len(ex.Messages) > 1 && ex.Messages[0]["role"] == "system" {
			ex.Messages = ex.Messages[1:]
			line, _ = json.Marshal(ex)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	os.WriteFile(in, out.Bytes(), 0o644)
	// Vertex AI reads each line on its own and documents systemInstruction
	// as optional: it is left out there when empty.
	for _, target := range []string{TargetShareGPT, TargetAlpaca, TargetOpenAI} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), []string{in}, Options{Target: target, OutDir: dir, Split: 0.9, Seed: 1, NearDup: 0})
			if err != nil {
				t.Fatal(err)
			}
			var first []string
			lines := 0
			for _, split := range []string{"train", "validation"} {
				f, err := os.Open(filepath.Join(dir, split+".jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(f)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var m map[string]json.RawMessage
					if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
						t.Fatal(err)
					}
					var keys []string
					for k := range m {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					if first == nil {
						first = keys
					} else if !slices.Equal(keys, first) {
						t.Fatalf("%s line %d has keys %v, the first line %v", split, lines+1, keys, first)
					}
					lines++
				}
				f.Close()
			}
			if lines != rep.Written || lines < 29000 {
				t.Errorf("%d lines, %d written", lines, rep.Written)
			}
			t.Logf("%d lines, keys %v", lines, first)
		})
	}
}

// No absolute path of the inputs appears anywhere under an hf export: not
// in the Parquet rows' provenance, not in the report or the card.
func TestHFExportHasNoAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "secret-home", "user", "data.jsonl")
	os.MkdirAll(filepath.Dir(in), 0o755)
	os.WriteFile(in, []byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"meta":{"source":"`+filepath.Join(dir, "secret-home", "user", "book.pdf")+`","page_start":3}}
{"messages":[{"role":"user","content":"bad"}]}
`), 0o644)
	out := filepath.Join(t.TempDir(), "hf")
	for _, abs := range []bool{false, true} {
		rep, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: out, Split: 1, Compression: "none", BaseDir: filepath.Join(dir, "secret-home"), AbsolutePaths: abs})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, []byte(dir)) {
					found = true
					if !abs {
						t.Errorf("%s holds an absolute input path", p)
					}
				}
			}
			return nil
		})
		if abs != found {
			t.Errorf("absolute paths %v, found in the export %v", abs, found)
		}
		if !abs {
			if rep.Inputs[0] != filepath.Join("user", "data.jsonl") {
				t.Errorf("report input %q", rep.Inputs[0])
			}
			for rec, err := range datasets.ReadParquet(context.Background(), filepath.Join(out, "data", "train-00000-of-00001.parquet")) {
				if err != nil {
					t.Fatal(err)
				}
				if m := rec.Meta; m.Source != filepath.Join("user", "book.pdf") || !strings.HasPrefix(m.Origin, filepath.Join("user", "data.jsonl")+":") {
					t.Errorf("provenance %q %q", m.Source, m.Origin)
				}
			}
		}
	}
}

// Language codes for the card are checked.
func TestCheckLanguages(t *testing.T) {
	if got, err := CheckLanguages([]string{" en", "fr", "", "en-US", "yue", "zh-Hant"}); err != nil || len(got) != 5 {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range []string{"English", "e", "en_US", "EN"} {
		if _, err := CheckLanguages([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// OpenAI's documented limits are checked like Vertex's: fewer than 10
// training examples fails; per-model context limits are flagged per model.
func TestOpenAILimits(t *testing.T) {
	r := &Report{Splits: map[string]SplitReport{SplitTrain: {Examples: 5, Tokens: Distribution{Max: 20000}}}}
	openaiLimits(r)
	if r.LimitsOK() {
		t.Error("5 training examples passed OpenAI's minimum of 10")
	}
	flagged := map[string]bool{}
	for _, l := range r.Limits {
		if !l.OK {
			flagged[l.Name] = true
		}
	}
	if !flagged["training examples (OpenAI's minimum)"] || !flagged["tokens per example for gpt-3.5-turbo-0125 (cl100k count)"] ||
		flagged["tokens per example for gpt-4o-mini-2024-07-18 (cl100k count)"] {
		t.Errorf("flagged %v", flagged)
	}
	r.Splits[SplitTrain] = SplitReport{Examples: 10, Tokens: Distribution{Max: 20000}}
	openaiLimits(r)
	if !r.LimitsOK() {
		t.Error("10 examples, over one model's context only: the export should pass with an advisory")
	}
}

// OpenAI's per-message weight (0: do not train on this assistant turn) and
// name survive into openai and hf; sharegpt, alpaca and vertex cannot say
// "do not train on this turn" and refuse such an example, counted.
func TestWeightAndNameRoundTrip(t *testing.T) {
	in := filepath.Join(t.TempDir(), "weighted.jsonl")
	lines := []string{
		`{"messages":[{"role":"system","content":"You are Ada."},{"role":"user","content":"Hi","name":"sam"},{"role":"assistant","content":"Wrong answer.","weight":0},{"role":"user","content":"Again?"},{"role":"assistant","content":"Right answer.","weight":1}]}`,
		`{"messages":[{"role":"user","content":"Plain"},{"role":"assistant","content":"Reply"}]}`,
		`{"messages":[{"role":"user","content":"q","weight":1},{"role":"assistant","content":"a"}]}`,
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":0}]}`,
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":2}]}`,
	}
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	zero, one := int32(0), int32(1)
	want := []datasets.Message{{Role: "system", Content: "You are Ada."}, {Role: "user", Content: "Hi", Name: "sam"},
		{Role: "assistant", Content: "Wrong answer.", Weight: &zero}, {Role: "user", Content: "Again?"}, {Role: "assistant", Content: "Right answer.", Weight: &one}}
	for _, target := range []string{TargetOpenAI, TargetHF, TargetShareGPT, TargetAlpaca, TargetVertex} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), []string{in}, Options{Target: target, OutDir: dir, Split: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, cat := range []string{"invalid:weight_not_on_assistant", "invalid:nothing_to_train", "invalid:bad_field"} {
				if rep.Dropped[cat] != 1 {
					t.Errorf("dropped %v: want one %s", rep.Dropped, cat)
				}
			}
			got := readBack(t, dir, target)[SplitTrain]
			switch target {
			case TargetOpenAI, TargetHF:
				if len(got) != 2 {
					t.Fatalf("%d examples back, want 2", len(got))
				}
				var weighted *datasets.Example
				for i := range got {
					if len(got[i].Messages) == 5 {
						weighted = &got[i]
					}
				}
				if weighted == nil || !reflect.DeepEqual(weighted.Messages, want) {
					t.Errorf("read back %+v\nwant %+v", weighted, want)
				}
			default:
				if len(got) != 1 || rep.Dropped[target+":incompatible"] != 1 {
					t.Errorf("%d examples back, dropped %v: want the weighted example refused", len(got), rep.Dropped)
				}
			}
		})
	}
}

// An export replaces its folder whole, so a folder holding anything else
// (the current folder, say) is refused, and nothing in it is touched.
func TestExportRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	in := genFile(t, 50)
	_, err := Export(context.Background(), []string{in}, Options{Target: TargetOpenAI, OutDir: dir, Split: 1})
	if err == nil || !strings.Contains(err.Error(), "not an earlier export") {
		t.Fatalf("export into a foreign folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
		t.Error("the folder's own file was touched")
	}
	// An earlier export's folder is replaced as usual.
	out := filepath.Join(t.TempDir(), "out")
	for range 2 {
		if _, err := Export(context.Background(), []string{in}, Options{Target: TargetOpenAI, OutDir: out, Split: 1}); err != nil {
			t.Fatal(err)
		}
	}
}

// A conversation that starts with the assistant is flagged (OpenAI takes
// it; Mistral's and Llama 2's chat templates raise on it).
func TestAssistantFirstWarning(t *testing.T) {
	in := filepath.Join(t.TempDir(), "a.jsonl")
	os.WriteFile(in, []byte(`{"messages":[{"role":"system","content":"s"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}
{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}
`), 0o644)
	s, err := Validate(context.Background(), []string{in}, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Warnings[WarnAssistantFirst] != 1 || s.Valid != 2 {
		t.Errorf("warnings %v, valid %d", s.Warnings, s.Valid)
	}
}
