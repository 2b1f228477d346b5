package datasets

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every preference shape gives the same pair: prompt and chosen in
// Messages, the rejected reply in Rejected.
func TestPairShapes(t *testing.T) {
	for _, in := range []string{
		`{"input":{"messages":[{"role":"user","content":"Q"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}`,
		`{"prompt":[{"role":"user","content":"Q"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`,
		`{"prompt":"Q","chosen":"a","rejected":"b"}`,
		`{"chosen":[{"role":"user","content":"Q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"Q"},{"role":"assistant","content":"b"}]}`,
		`{"conversations":[{"from":"human","value":"Q"}],"chosen":{"from":"gpt","value":"a"},"rejected":{"from":"gpt","value":"b"}}`,
		`{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`,
	} {
		ex, _, err := ParseRecord([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !ex.IsPair() || len(ex.Rejected) != 1 || ex.Rejected[0].Role != RoleAssistant || ex.Rejected[0].Content != "b" ||
			len(ex.Prompt()) != 1 || ex.Prompt()[0].Content != "Q" || ex.Chosen()[0].Content != "a" {
			t.Errorf("%s: got %+v", in, ex)
		}
		// tuneline's own JSON of the pair reads back as the same pair.
		b, _ := json.Marshal(ex)
		back, _, err := ParseRecord(b)
		if err != nil || len(back.Rejected) != 1 || back.Rejected[0].Content != "b" || ContentID(back.KeyMessages()) != ContentID(ex.KeyMessages()) {
			t.Errorf("%s: own JSON %s read back as %+v, %v", in, b, back, err)
		}
	}
	// The rejected reply is part of the id: two pairs that share prompt
	// and chosen are different examples.
	a, _, _ := ParseRecord([]byte(`{"prompt":"Q","chosen":"a","rejected":"b"}`))
	b, _, _ := ParseRecord([]byte(`{"prompt":"Q","chosen":"a","rejected":"c"}`))
	a.EnsureID()
	b.EnsureID()
	if a.ID == b.ID {
		t.Errorf("pairs with different rejected replies share the id %s", a.ID)
	}
}

// Tool calls read from OpenAI's shape and LLaMA-Factory's ShareGPT tags
// come out the same, and survive tuneline's own JSON.
func TestToolShapes(t *testing.T) {
	openai := `{"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_2_0","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}}]},{"role":"tool","tool_call_id":"call_2_0","content":"{\"c\":3}"},{"role":"assistant","content":"3 degrees."}],"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}]}`
	sharegpt := `{"conversations":[{"from":"human","value":"Weather?"},{"from":"function_call","value":"{\"name\": \"weather\", \"arguments\": {\"city\": \"Oslo\"}}"},{"from":"observation","value":"{\"c\":3}"},{"from":"gpt","value":"3 degrees."}],"tools":"[{\"name\": \"weather\", \"parameters\": {\"type\": \"object\"}}]"}`
	var got []Example
	for _, in := range []string{openai, sharegpt} {
		ex, _, err := ParseRecord([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got = append(got, ex)
	}
	for i, ex := range got {
		m := ex.Messages
		if len(m) != 4 || len(m[1].ToolCalls) != 1 || m[1].ToolCalls[0].Function.Name != "weather" ||
			m[1].ToolCalls[0].Function.Arguments != `{"city":"Oslo"}` || m[2].Role != RoleTool || m[2].ToolCallID != m[1].ToolCalls[0].ID {
			t.Errorf("shape %d: %+v", i, m)
		}
		var tools []struct {
			Type     string
			Function struct{ Name string }
		}
		if err := json.Unmarshal([]byte(ex.Tools), &tools); err != nil || len(tools) != 1 || tools[0].Type != "function" || tools[0].Function.Name != "weather" {
			t.Errorf("shape %d: tools %s (%v)", i, ex.Tools, err)
		}
		if !ex.HasTools() {
			t.Errorf("shape %d: HasTools false", i)
		}
	}
	if ContentID(got[0].KeyMessages()) != ContentID(got[1].KeyMessages()) {
		t.Errorf("the same conversation read from two shapes has two ids")
	}
	b, _ := json.Marshal(got[0])
	if !strings.Contains(string(b), `"tools":[{`) || !strings.Contains(string(b), `"tool_call_id":"call_2_0"`) {
		t.Errorf("own JSON lost the tools: %s", b)
	}
	back, _, err := ParseRecord(b)
	if err != nil || back.Tools != got[0].Tools || len(back.Messages[1].ToolCalls) != 1 {
		t.Errorf("own JSON %s read back as %+v, %v", b, back, err)
	}
}
