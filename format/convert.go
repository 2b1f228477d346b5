package format

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// Export targets.
const (
	TargetOpenAI   = "openai"
	TargetShareGPT = "sharegpt"
	TargetAlpaca   = "alpaca"
	TargetVertex   = "vertex"
	TargetHF       = "hf"
)

// Targets lists the export formats.
var Targets = []string{TargetOpenAI, TargetShareGPT, TargetAlpaca, TargetVertex, TargetHF}

type openaiLine struct {
	Messages []datasets.Message `json:"messages"`
	Tools    datasets.RawJSON   `json:"tools,omitempty"`
}

// openaiMessage is a message as OpenAI writes it: an assistant message
// that only calls tools has no content key.
type openaiMessage struct {
	Role       string              `json:"role"`
	Content    *string             `json:"content,omitempty"`
	Name       string              `json:"name,omitempty"`
	Weight     *int32              `json:"weight,omitempty"`
	ToolCalls  []datasets.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string              `json:"tool_call_id,omitempty"`
}

type openaiToolLine struct {
	Messages []openaiMessage  `json:"messages"`
	Tools    datasets.RawJSON `json:"tools,omitempty"`
}

func openaiMessages(msgs []datasets.Message) []openaiMessage {
	out := make([]openaiMessage, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		out[i] = openaiMessage{Role: m.Role, Name: m.Name, Weight: m.Weight, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID}
		if m.Content != "" || len(m.ToolCalls) == 0 {
			out[i].Content = &m.Content
		}
	}
	return out
}

// openaiPairLine is OpenAI's preference (DPO) fine-tuning line.
type openaiPairLine struct {
	Input struct {
		Messages []openaiMessage  `json:"messages"`
		Tools    datasets.RawJSON `json:"tools,omitempty"`
	} `json:"input"`
	Preferred    []openaiMessage `json:"preferred_output"`
	NonPreferred []openaiMessage `json:"non_preferred_output"`
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

type alpacaLine struct {
	Instruction string      `json:"instruction"`
	Input       string      `json:"input"`
	Output      string      `json:"output"`
	System      string      `json:"system"`
	History     [][2]string `json:"history"`
}

// alpacaPairLine is LLaMA-Factory's Alpaca ranking record.
type alpacaPairLine struct {
	Instruction string      `json:"instruction"`
	Input       string      `json:"input"`
	Chosen      string      `json:"chosen"`
	Rejected    string      `json:"rejected"`
	System      string      `json:"system"`
	History     [][2]string `json:"history"`
}

type vertexPart struct {
	Text             *string         `json:"text,omitempty"`
	FunctionCall     *vertexFunction `json:"functionCall,omitempty"`
	FunctionResponse *vertexFunction `json:"functionResponse,omitempty"`
}

type vertexFunction struct {
	Name     string          `json:"name"`
	Args     json.RawMessage `json:"args,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

type vertexContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []vertexPart `json:"parts"`
}

type vertexTools struct {
	FunctionDeclarations []json.RawMessage `json:"functionDeclarations"`
}

type vertexLine struct {
	SystemInstruction *vertexContent  `json:"systemInstruction,omitempty"`
	Contents          []vertexContent `json:"contents"`
	Tools             []vertexTools   `json:"tools,omitempty"`
}

func textPart(s string) vertexPart { return vertexPart{Text: &s} }

// unweighted refuses an example with a turn marked weight 0 for a target
// that cannot say "do not train on this turn": dropping the turn would break
// the conversation, training on it would teach what the data says not to.
func unweighted(ex *datasets.Example, target string) string {
	for i, m := range ex.Messages {
		if m.Skipped() {
			return fmt.Sprintf("%s cannot mark a turn as not trained on (message %d has weight 0)", target, i+1)
		}
	}
	return ""
}

// toolDefs reads the function definitions of an OpenAI tools list.
func toolDefs(tools datasets.RawJSON) ([]json.RawMessage, error) {
	if tools == "" {
		return nil, nil
	}
	var list []struct {
		Function json.RawMessage `json:"function"`
	}
	if err := json.Unmarshal([]byte(tools), &list); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(list))
	for i, t := range list {
		out[i] = t.Function
	}
	return out, nil
}

// callTurns checks that the turns after the system prompt alternate
// user and assistant, with tool results after the assistant's calls, as
// ShareGPT (LLaMA-Factory) and Vertex require: tool messages count as the
// user's side, so user, assistant(calls), tool, assistant is alternating.
func callTurns(ex *datasets.Example, target string) string {
	t := ex.Turns()
	if len(t) == 0 || t[0].Role != datasets.RoleUser {
		return target + " needs the conversation to start with a user message"
	}
	side := func(role string) string {
		if role == datasets.RoleTool {
			return datasets.RoleUser
		}
		return role
	}
	for i, m := range t {
		want := datasets.RoleUser
		if i%2 == 1 {
			want = datasets.RoleAssistant
		}
		if side(m.Role) != want {
			if m.Role == datasets.RoleTool {
				return fmt.Sprintf("%s holds one tool result after each call turn; message %d is a second one (calls answered in parallel)", target, i+1)
			}
			return fmt.Sprintf("%s needs alternating user/assistant turns; message %d is %s", target, i+1, m.Role)
		}
	}
	if len(t)%2 != 0 {
		return target + " needs the conversation to end with an assistant message"
	}
	return ""
}

// kindMismatch says why an example is not of the export's kind, or "".
func kindMismatch(ex *datasets.Example, pairs bool) string {
	switch {
	case ex.IsPair() == pairs:
		return ""
	case pairs:
		return "the export holds preference pairs (--kind); this example has no rejected reply"
	}
	return "the export holds chat examples (--kind); this example is a preference pair"
}

// Encode converts a valid example into one JSON line of the target format,
// or returns why the example cannot be written in it. pairs tells whether
// the export holds preference pairs (see Probe): one file holds one kind.
func Encode(ex *datasets.Example, target string, pairs bool) ([]byte, string) {
	if r := kindMismatch(ex, pairs); r != "" {
		return nil, r
	}
	var v any
	switch target {
	case TargetOpenAI:
		switch {
		case pairs:
			var l openaiPairLine
			l.Input.Messages = openaiMessages(ex.Prompt())
			l.Input.Tools = ex.Tools
			l.Preferred = openaiMessages(ex.Chosen())
			l.NonPreferred = openaiMessages(ex.Rejected)
			v = l
		case ex.HasTools():
			v = openaiToolLine{Messages: openaiMessages(ex.Messages), Tools: ex.Tools}
		default:
			v = openaiLine{Messages: ex.Messages}
		}
	case TargetShareGPT:
		if r := callTurns(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		l := sharegptLine{System: ex.System(), Tools: ""}
		if ex.Tools != "" {
			defs, err := toolDefs(ex.Tools)
			if err != nil {
				return nil, "tools: " + err.Error()
			}
			b, _ := json.Marshal(defs)
			l.Tools = string(b)
		}
		for i, m := range ex.Turns() {
			t, why := sharegptTurnOf(&m, i)
			if why != "" {
				return nil, why
			}
			l.Conversations = append(l.Conversations, t)
		}
		if pairs {
			n := len(l.Conversations) - 1
			v = sharegptPairLine{Conversations: l.Conversations[:n], System: l.System, Tools: l.Tools,
				Chosen: l.Conversations[n], Rejected: sharegptTurn{"gpt", ex.Rejected[0].Content}}
		} else {
			v = l
		}
	case TargetAlpaca:
		if ex.HasTools() {
			return nil, "alpaca cannot hold tool calls"
		}
		if r := callTurns(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		t := ex.Turns()
		hist := [][2]string{}
		for i := 0; i+2 < len(t); i += 2 {
			hist = append(hist, [2]string{t[i].Content, t[i+1].Content})
		}
		if pairs {
			v = alpacaPairLine{System: ex.System(), Instruction: t[len(t)-2].Content, Chosen: t[len(t)-1].Content,
				Rejected: ex.Rejected[0].Content, History: hist}
		} else {
			v = alpacaLine{System: ex.System(), Instruction: t[len(t)-2].Content, Output: t[len(t)-1].Content, History: hist}
		}
	case TargetVertex:
		if pairs {
			return nil, "vertex supervised tuning holds no preference pairs"
		}
		if r := callTurns(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		l, why := vertexOf(ex)
		if why != "" {
			return nil, why
		}
		v = l
	default:
		return nil, "unknown export format " + target
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err.Error()
	}
	return append(b, '\n'), ""
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
			return sharegptTurn{}, fmt.Sprintf("sharegpt cannot hold text beside a function call (message %d has both)", i+1)
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

// vertexOf writes an example as a Gemini tuning line: tool calls become
// functionCall parts of the model's turn, tool results functionResponse
// parts of the user's, the tools a functionDeclarations list.
func vertexOf(ex *datasets.Example) (vertexLine, string) {
	var l vertexLine
	if s := ex.System(); s != "" {
		l.SystemInstruction = &vertexContent{Parts: []vertexPart{textPart(s)}}
	}
	if ex.Tools != "" {
		defs, err := toolDefs(ex.Tools)
		if err != nil {
			return l, "tools: " + err.Error()
		}
		l.Tools = []vertexTools{{FunctionDeclarations: defs}}
	}
	names := map[string]string{} // call id -> function name
	for i, m := range ex.Turns() {
		switch {
		case m.Role == datasets.RoleTool:
			resp := json.RawMessage(m.Content)
			if !jsonObject(m.Content) { // Gemini wants an object
				resp, _ = json.Marshal(map[string]string{"content": m.Content})
			}
			p := vertexPart{FunctionResponse: &vertexFunction{Name: names[m.ToolCallID], Response: resp}}
			l.Contents = append(l.Contents, vertexContent{Role: "user", Parts: []vertexPart{p}})
		case m.Role == datasets.RoleAssistant:
			c := vertexContent{Role: "model"}
			if m.Content != "" {
				c.Parts = append(c.Parts, textPart(m.Content))
			}
			for _, tc := range m.ToolCalls {
				if !jsonObject(tc.Function.Arguments) {
					return l, fmt.Sprintf("vertex needs a call's arguments to be a JSON object (message %d)", i+1)
				}
				names[tc.ID] = tc.Function.Name
				c.Parts = append(c.Parts, vertexPart{FunctionCall: &vertexFunction{Name: tc.Function.Name, Args: json.RawMessage(tc.Function.Arguments)}})
			}
			l.Contents = append(l.Contents, c)
		default:
			l.Contents = append(l.Contents, vertexContent{Role: "user", Parts: []vertexPart{textPart(m.Content)}})
		}
	}
	return l, ""
}
