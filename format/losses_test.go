package format

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeInput(t *testing.T, lines ...string) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return in
}

func exportLines(t *testing.T, in, target string) (*Report, []map[string]json.RawMessage) {
	t.Helper()
	dir := t.TempDir()
	rep, err := Export(context.Background(), []string{in}, Options{Target: target, OutDir: dir, Split: 1, NearDup: 0})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	var out []map[string]json.RawMessage
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]json.RawMessage
		if l != "" && json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return rep, out
}

// LLaMA-Factory's default tool formatter (src/llamafactory/data/
// tool_utils.py, DefaultToolUtils.tool_formatter, at ff6d4d1) reads
//
//	for name, param in tool["parameters"]["properties"].items():
//
// so a tool declared without parameters (valid for OpenAI) raised
// KeyError; the sharegpt export gives it empty properties.
func TestShareGPTToolsHaveProperties(t *testing.T) {
	in := writeInput(t, `{"messages":[{"role":"user","content":"What time is it?"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"12:00"},{"role":"assistant","content":"Noon."}],"tools":[{"type":"function","function":{"name":"now","description":"The time"}},{"type":"function","function":{"name":"echo","parameters":{"type":"object"}}}]}`)
	rep, lines := exportLines(t, in, TargetShareGPT)
	if rep.Written != 1 {
		t.Fatalf("written %d, dropped %v", rep.Written, rep.Dropped)
	}
	var toolsText string
	json.Unmarshal(lines[0]["tools"], &toolsText)
	var tools []map[string]any
	if err := json.Unmarshal([]byte(toolsText), &tools); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		params, _ := tool["parameters"].(map[string]any)
		if _, ok := params["properties"].(map[string]any); !ok {
			t.Errorf("KeyError: tool %v has no parameters.properties", tool["name"])
		}
	}
}

// Gemini's function declarations take only enum and date-time as a
// string's format: the others move into the description, counted.
func TestVertexStringFormats(t *testing.T) {
	in := writeInput(t, `{"messages":[{"role":"user","content":"Book Oslo on May 3."},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"book","arguments":"{\"day\":\"2025-05-03\"}"}}]}],"tools":[{"type":"function","function":{"name":"book","parameters":{"type":"object","properties":{"day":{"type":"string","format":"date","description":"The day"},"at":{"type":"string","format":"date-time"},"site":{"type":"string","format":"uri"}}}}}]}`)
	rep, lines := exportLines(t, in, TargetVertex)
	if rep.Written != 1 {
		t.Fatalf("written %d, dropped %v", rep.Written, rep.Dropped)
	}
	got := string(lines[0]["tools"])
	for _, want := range []string{`"description":"The day (format: date)"`, `"format":"date-time"`, `"description":"(format: uri)"`} {
		if !strings.Contains(got, want) {
			t.Errorf("tools lack %s: %s", want, got)
		}
	}
	if strings.Contains(got, `"format":"date"`) || strings.Contains(got, `"format":"uri"`) {
		t.Errorf("unsupported formats left in: %s", got)
	}
	if rep.Adjusted["vertex:format_moved:date"] != 1 || rep.Adjusted["vertex:format_moved:uri"] != 1 {
		t.Errorf("adjustments not counted: %v", rep.Adjusted)
	}
}

// Parallel calls answered by several tool messages are held by sharegpt
// (one function_call turn with a list, one observation turn with a list
// of results) and vertex (functionCall parts, then one turn of
// functionResponse parts), not dropped.
func TestParallelCallsKept(t *testing.T) {
	in := writeInput(t, `{"messages":[{"role":"user","content":"Compare Paris and Rome."},{"role":"assistant","tool_calls":[{"id":"call_p","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_r","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},{"role":"tool","tool_call_id":"call_p","content":"{\"c\":18}"},{"role":"tool","tool_call_id":"call_r","content":"21 degrees"},{"role":"assistant","content":"Rome is warmer."}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`)
	rep, lines := exportLines(t, in, TargetShareGPT)
	if rep.Written != 1 {
		t.Fatalf("sharegpt: written %d, dropped %v", rep.Written, rep.Dropped)
	}
	var conv []sharegptTurn
	json.Unmarshal(lines[0]["conversations"], &conv)
	if len(conv) != 4 || conv[1].From != "function_call" || !strings.HasPrefix(conv[1].Value, "[") || conv[2].From != "observation" || conv[2].Value != `[{"c":18},"21 degrees"]` {
		t.Errorf("sharegpt turns %+v", conv)
	}
	rep, lines = exportLines(t, in, TargetVertex)
	if rep.Written != 1 {
		t.Fatalf("vertex: written %d, dropped %v", rep.Written, rep.Dropped)
	}
	var contents []vertexContent
	json.Unmarshal(lines[0]["contents"], &contents)
	if len(contents) != 4 || len(contents[1].Parts) != 2 || len(contents[2].Parts) != 2 || contents[2].Parts[1].FunctionResponse == nil {
		t.Errorf("vertex contents %s", lines[0]["contents"])
	}
}
