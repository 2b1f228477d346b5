package format

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// TargetShareGPT is LLaMA-Factory's sharegpt format (human/gpt turns,
// function_call/observation, ranking records) with its dataset_info.json.
const TargetShareGPT = datasets.FormatShareGPT

var sharegptTarget = &Target{
	Name:     TargetShareGPT,
	Files:    "train.jsonl, validation.jsonl, dataset_info.json",
	Reader:   "LLaMA-Factory sharegpt (human/gpt)",
	Holds:    Holds{Tools: true, Pairs: true},
	ToolsDoc: "function_call/observation turns with a tools column",
	PairsDoc: "LLaMA-Factory ranking records (chosen, rejected)",
	encode:   encodeShareGPT,
	newSink:  jsonlSinkOf,
	metadata: func(opt Options, splits []string) error { return writeDatasetInfo(opt, splits, sharegptInfo) },
}

// sharegptInfo is the dataset_info.json entry's columns and tags.
func sharegptInfo(entry map[string]any, pairs bool) {
	entry["formatting"] = TargetShareGPT // LLaMA-Factory's name of the format is ours
	cols := map[string]string{"messages": "conversations", "system": "system", "tools": "tools"}
	if pairs {
		cols["chosen"], cols["rejected"] = "chosen", "rejected"
	}
	entry["columns"] = cols
	entry["tags"] = map[string]string{"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
		"observation_tag": "observation", "function_tag": "function_call"}
}

func encodeShareGPT(ex *datasets.Example, pairs bool) ([]byte, string) {
	if r := callTurns(ex, TargetShareGPT); r != "" {
		return nil, r
	}
	if r := unweighted(ex, TargetShareGPT); r != "" {
		return nil, r
	}
	l := sharegptLine{System: ex.System(), Tools: ""}
	if ex.Tools != "" {
		defs, err := toolDefs(ex.Tools)
		if err != nil {
			return nil, "tools: " + err.Error()
		}
		b, _ := json.Marshal(withProperties(defs))
		l.Tools = string(b)
	}
	turns := ex.Turns()
	for i := 0; i < len(turns); i++ {
		m := turns[i]
		t, why := sharegptTurnOf(&m, i)
		if why != "" {
			return nil, why
		}
		if m.Role == datasets.RoleTool && i+1 < len(turns) && turns[i+1].Role == datasets.RoleTool {
			// The results of parallel calls: one observation turn, a
			// JSON list of the results in the calls' order.
			var results []json.RawMessage
			for ; i < len(turns) && turns[i].Role == datasets.RoleTool; i++ {
				results = append(results, resultJSON(turns[i].Content))
			}
			i--
			b, _ := json.Marshal(results)
			t.Value = string(b)
		}
		l.Conversations = append(l.Conversations, t)
	}
	if pairs {
		n := len(l.Conversations) - 1
		return jsonLine(sharegptPairLine{Conversations: l.Conversations[:n], System: l.System, Tools: l.Tools,
			Chosen: l.Conversations[n], Rejected: sharegptTurn{"gpt", ex.Rejected[0].Content}})
	}
	return jsonLine(l)
}

type sharegptTurn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// Every line of a JSONL export has the same keys (empty string, empty
// list when absent): Hugging Face datasets reads JSON Lines in blocks and
// refuses a block whose columns differ from the first's.
type sharegptLine struct {
	Conversations []sharegptTurn `json:"conversations"`
	System        string         `json:"system"`
	// Tools holds the function definitions as JSON text, as LLaMA-Factory
	// reads them ("" when the example has none).
	Tools string `json:"tools"`
}

// sharegptPairLine is LLaMA-Factory's ShareGPT ranking record.
type sharegptPairLine struct {
	Conversations []sharegptTurn `json:"conversations"`
	System        string         `json:"system"`
	Tools         string         `json:"tools"`
	Chosen        sharegptTurn   `json:"chosen"`
	Rejected      sharegptTurn   `json:"rejected"`
}

// sharegptTurnOf writes a message as a LLaMA-Factory turn: human, gpt,
// function_call ({"name", "arguments"}, a list for parallel calls) or
// observation.
func sharegptTurnOf(m *datasets.Message, i int) (sharegptTurn, string) {
	switch {
	case m.Role == datasets.RoleTool:
		return sharegptTurn{"observation", m.Content}, ""
	case len(m.ToolCalls) > 0:
		if strings.TrimSpace(m.Content) != "" {
			// LLaMA-Factory's FunctionFormatter (src/llamafactory/data/
			// formatter.py) parses a function_call turn as JSON and keeps
			// other text only as a thought span it writes with its <think>
			// tags, and an extra gpt turn breaks the alternation its
			// converter checks.
			return sharegptTurn{}, fmt.Sprintf("sharegpt cannot hold text beside a function call (message %d has both; LLaMA-Factory reads a function_call turn as JSON, other text only as a <think> span)", i+1)
		}
		type call struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		calls := make([]call, len(m.ToolCalls))
		for j, c := range m.ToolCalls {
			calls[j] = call{c.Function.Name, json.RawMessage(c.Function.Arguments)}
		}
		var b []byte
		var err error
		if len(calls) == 1 {
			b, err = json.Marshal(calls[0])
		} else {
			b, err = json.Marshal(calls)
		}
		if err != nil {
			return sharegptTurn{}, fmt.Sprintf("message %d: %v", i+1, err)
		}
		return sharegptTurn{"function_call", string(b)}, ""
	case m.Role == datasets.RoleAssistant:
		return sharegptTurn{"gpt", m.Content}, ""
	}
	return sharegptTurn{"human", m.Content}, ""
}

// resultJSON is a tool result as JSON: itself when it is JSON, else a
// string.
func resultJSON(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// withProperties gives every function declaration parameters with
// properties: LLaMA-Factory's default tool formatter reads
// parameters.properties (KeyError without it), though OpenAI lets a
// function declare no parameters.
func withProperties(defs []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(defs))
	for i, d := range defs {
		out[i] = d
		var fn map[string]json.RawMessage
		if json.Unmarshal(d, &fn) != nil {
			continue
		}
		var params map[string]json.RawMessage
		if p, ok := fn["parameters"]; ok && json.Unmarshal(p, &params) == nil && params != nil {
			if _, ok := params["properties"]; ok {
				continue
			}
		} else {
			params = map[string]json.RawMessage{"type": json.RawMessage(`"object"`)}
		}
		params["properties"] = json.RawMessage(`{}`)
		fn["parameters"], _ = json.Marshal(params)
		out[i], _ = json.Marshal(fn)
	}
	return out
}
