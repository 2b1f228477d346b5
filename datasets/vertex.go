package datasets

import (
	"encoding/json"
	"fmt"
	"strings"
)

// convertVertex reads a Vertex AI Gemini tuning record: its system
// instruction, its turns (functionCall parts of the model's as tool calls,
// functionResponse parts as tool results answering the last call of that
// function) and its function declarations as OpenAI's tools list.
func convertVertex(w *wireRecord) ([]Message, RawJSON, *RowError) {
	var msgs []Message
	sys := w.SysInstr
	if sys == nil {
		sys = w.SysInstrSnake
	}
	if sys != nil {
		text, e := partsText(sys.Parts, "systemInstruction")
		if e != nil {
			return nil, "", e
		}
		if text != "" {
			msgs = append(msgs, Message{Role: RoleSystem, Content: text})
		}
	}
	tools, e := vertexTools(w.Tools)
	if e != nil {
		return nil, "", e
	}
	pending := map[string][]string{} // function name -> ids of its calls not answered yet
	for i, c := range w.Contents {
		where := fmt.Sprintf("contents[%d]", i)
		if c.Role == nil {
			return nil, "", rowErr(ErrBadField, "%s has no role", where)
		}
		role := *c.Role
		switch role {
		case "model":
			role = RoleAssistant
		case "function":
			role = RoleUser // an older spelling of the turn holding function responses
		}
		if c.Parts == nil {
			return nil, "", rowErr(ErrBadField, "%s has no parts", where)
		}
		m := Message{Role: role}
		var text []wirePart
		var results []Message
		for j, p := range c.Parts {
			switch {
			case present(p.FunctionCall) && role == RoleAssistant:
				var fc struct {
					Name string          `json:"name"`
					Args json.RawMessage `json:"args"`
				}
				if err := json.Unmarshal(p.FunctionCall, &fc); err != nil || fc.Name == "" {
					return nil, "", rowErr(ErrBadField, "%s part %d: functionCall must be {\"name\", \"args\"}", where, j)
				}
				args := rawOr(fc.Args, "{}")
				id := fmt.Sprintf("call_%d_%d", i, len(m.ToolCalls))
				pending[fc.Name] = append(pending[fc.Name], id)
				m.ToolCalls = append(m.ToolCalls, ToolCall{ID: id, Type: "function", Function: FunctionCall{Name: fc.Name, Arguments: args}})
			case present(p.FunctionResponse) && role != RoleAssistant:
				var fr struct {
					Name     string          `json:"name"`
					Response json.RawMessage `json:"response"`
				}
				if err := json.Unmarshal(p.FunctionResponse, &fr); err != nil || fr.Name == "" {
					return nil, "", rowErr(ErrBadField, "%s part %d: functionResponse must be {\"name\", \"response\"}", where, j)
				}
				ids := pending[fr.Name]
				if len(ids) == 0 {
					return nil, "", rowErr(ErrToolCalls, "%s part %d: a functionResponse of %s answers no functionCall before it", where, j, fr.Name)
				}
				pending[fr.Name] = ids[1:]
				results = append(results, Message{Role: RoleTool, ToolCallID: ids[0], Content: rawOr(fr.Response, "{}")})
			case present(p.FunctionCall) || present(p.FunctionResponse):
				return nil, "", rowErr(ErrToolCalls, "%s part %d: a function call in a %s turn", where, j, *c.Role)
			default:
				text = append(text, p)
			}
		}
		if len(results) > 0 {
			if len(text) > 0 {
				return nil, "", rowErr(ErrToolCalls, "%s mixes text and function responses", where)
			}
			msgs = append(msgs, results...)
			continue
		}
		if len(text) > 0 || len(m.ToolCalls) == 0 {
			t, e := partsText(text, where)
			if e != nil {
				return nil, "", e
			}
			m.Content = t
		}
		msgs = append(msgs, m)
	}
	return msgs, tools, nil
}

// vertexTools reads Vertex AI's tools ([{functionDeclarations: [...]}])
// as OpenAI's tools list, the declarations' OpenAPI types (OBJECT, STRING)
// in JSON Schema's lower case.
func vertexTools(r json.RawMessage) (RawJSON, *RowError) {
	if !present(r) {
		return "", nil
	}
	var list []struct {
		FunctionDeclarations []map[string]any `json:"functionDeclarations"`
	}
	if err := json.Unmarshal(r, &list); err != nil {
		return "", rowErr(ErrBadField, "vertex tools must be a list of {\"functionDeclarations\": [...]}: %v", err)
	}
	var out []any
	for _, t := range list {
		for _, d := range t.FunctionDeclarations {
			if p, ok := d["parameters"]; ok {
				d["parameters"] = lowerTypes(p)
			}
			out = append(out, map[string]any{"type": "function", "function": d})
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", rowErr(ErrBadField, "tools: %v", err)
	}
	return RawJSON(b), nil
}

// lowerTypes lower-cases the "type" values of a schema, recursively.
func lowerTypes(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "type" {
				v[k] = strings.ToLower(s)
			} else {
				v[k] = lowerTypes(x)
			}
		}
	case []any:
		for i := range v {
			v[i] = lowerTypes(v[i])
		}
	}
	return v
}

// rawOr is r compacted, or def when r is absent.
func rawOr(r json.RawMessage, def string) string {
	if !present(r) {
		return def
	}
	return compactJSON(string(r))
}
