package format

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// checkFile validates every record of a file and returns the issues'
// categories.
func checkFile(t *testing.T, path string) (valid int, cats []string) {
	t.Helper()
	for rec, err := range datasets.ReadFile(context.Background(), path) {
		if err != nil {
			t.Fatal(err)
		}
		c := Check(rec, tokens.NewCounter(), 0)
		if c.Valid {
			valid++
		}
		for _, is := range c.Issues {
			if is.Severity == SevError {
				cats = append(cats, is.Category+": "+is.Reason)
			}
		}
	}
	return valid, cats
}

// OpenAI's and Vertex AI's documented function-calling tuning examples end
// with the assistant's call, unanswered: they pass validate and export to
// every target that holds tool calls, the call kept.
func TestDocumentedToolExamples(t *testing.T) {
	for _, f := range []string{"openai-docs/tool_calling_example.jsonl", "vertex-docs/function_calling_example.jsonl"} {
		t.Run(f, func(t *testing.T) {
			in := corpora + f
			if valid, cats := checkFile(t, in); valid != 1 {
				t.Fatalf("validate: %v", cats)
			}
			for _, target := range []string{TargetOpenAI, TargetHF, TargetShareGPT, TargetVertex} {
				dir := t.TempDir()
				rep, err := Export(context.Background(), []string{in}, Options{Target: target, OutDir: dir, Split: 1, NearDup: 0})
				if err != nil || rep.Written != 1 {
					t.Fatalf("%s: written %v, dropped %v, %v", target, rep.Written, rep.Dropped, err)
				}
				var last datasets.Message
				for _, exs := range readBack(t, dir, target) {
					for _, ex := range exs {
						last = ex.Messages[len(ex.Messages)-1]
					}
				}
				if len(last.ToolCalls) != 1 || !strings.Contains(last.ToolCalls[0].Function.Arguments, "San Francisco") && !strings.Contains(last.ToolCalls[0].Function.Arguments, "Pixel 8 Pro 128GB") {
					t.Errorf("%s: the last message does not keep the call: %+v", target, last)
				}
			}
		})
	}
	// Vertex's declaration comes out as OpenAI's tools with JSON Schema's
	// lower-case types.
	dir := t.TempDir()
	if _, err := Export(context.Background(), []string{corpora + "vertex-docs/function_calling_example.jsonl"}, Options{Target: TargetOpenAI, OutDir: dir, Split: 1}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	for _, want := range []string{`"tools":[{"function":{"description":"Get the available inventory`, `"type":"object"`, `"arguments":"{\"product_name\":\"Pixel 8 Pro 128GB\"}"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("openai line lacks %s:\n%s", want, b)
		}
	}
}

// OpenAI's DPO schema allows a preferred_output that is a tool call, and
// its SFT and DPO lines a parallel_tool_calls flag: both are kept.
func TestOpenAIToolCallPairsAndParallelFlag(t *testing.T) {
	tools := `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	in := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(in, []byte(strings.Join([]string{
		`{"input":{"messages":[{"role":"user","content":"Weather in Oslo?"}],"tools":` + tools + `,"parallel_tool_calls":false},"preferred_output":[{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]}],"non_preferred_output":[{"role":"assistant","content":"I cannot know."}]}`,
		`{"messages":[{"role":"user","content":"Weather in Rome?"},{"role":"assistant","tool_calls":[{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},{"role":"tool","tool_call_id":"call_2","content":"sunny"},{"role":"assistant","content":"Sunny."}],"tools":` + tools + `,"parallel_tool_calls":false}`,
	}, "\n")+"\n"), 0o644)
	if valid, cats := checkFile(t, in); valid != 2 {
		t.Fatalf("validate: %v", cats)
	}
	for kind, want := range map[string]string{KindPreference: `"parallel_tool_calls":false},"preferred_output":[{"role":"assistant","tool_calls"`, KindChat: `"parallel_tool_calls":false}`} {
		dir := t.TempDir()
		rep, err := Export(context.Background(), []string{in}, Options{Target: TargetOpenAI, OutDir: dir, Split: 1, Kind: kind})
		if err != nil || rep.Written != 1 {
			t.Fatalf("%s: %v %v", kind, rep, err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "train.jsonl"))
		if !strings.Contains(string(b), want) {
			t.Errorf("%s line lacks %s:\n%s", kind, want, b)
		}
	}
}
