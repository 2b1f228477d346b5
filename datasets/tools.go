package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// shareGPTTools reads LLaMA-Factory's tools column (a JSON list of function
// definitions, often itself inside a string) as OpenAI's tools list.
func shareGPTTools(r json.RawMessage) (RawJSON, *RowError) {
	if !present(r) {
		return "", nil
	}
	r = bytes.TrimSpace(r)
	if r[0] == '"' {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return "", rowErr(ErrBadField, "tools: %v", err)
		}
		if strings.TrimSpace(s) == "" {
			return "", nil
		}
		r = []byte(s)
	}
	var defs []map[string]json.RawMessage
	if err := json.Unmarshal(r, &defs); err != nil {
		return "", rowErr(ErrBadField, "tools must be a JSON list of function definitions: %v", err)
	}
	if len(defs) == 0 {
		return "", nil
	}
	out := make([]any, len(defs))
	for i, d := range defs {
		if _, ok := d["function"]; ok && string(d["type"]) == `"function"` {
			out[i] = d
		} else {
			out[i] = map[string]any{"type": "function", "function": d}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", rowErr(ErrBadField, "tools: %v", err)
	}
	return RawJSON(b), nil
}

// shareGPTCalls reads a function_call turn: {"name", "arguments"} or a list
// of them. The calls get ids of their own (call_<turn>_<n>).
func shareGPTCalls(v string, turn int, where string) ([]ToolCall, *RowError) {
	type call struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	var list []call
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "[") {
		if err := json.Unmarshal([]byte(t), &list); err != nil {
			return nil, rowErr(ErrBadField, "%s: function_call must be {\"name\", \"arguments\"} or a list of them: %v", where, err)
		}
	} else {
		var c call
		if err := json.Unmarshal([]byte(t), &c); err != nil {
			return nil, rowErr(ErrBadField, "%s: function_call must be {\"name\", \"arguments\"} or a list of them: %v", where, err)
		}
		list = []call{c}
	}
	calls := make([]ToolCall, len(list))
	for j, c := range list {
		args := bytes.TrimSpace(c.Arguments)
		if len(args) > 0 && args[0] == '"' { // arguments given as JSON text
			var s string
			json.Unmarshal(args, &s)
			args = []byte(s)
		}
		var cb bytes.Buffer
		if json.Compact(&cb, args) == nil {
			args = cb.Bytes()
		}
		calls[j] = ToolCall{ID: fmt.Sprintf("call_%d_%d", turn, j), Type: "function",
			Function: FunctionCall{Name: c.Name, Arguments: string(args)}}
	}
	return calls, nil
}
