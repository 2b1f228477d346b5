package format

import (
	"encoding/json"
	"fmt"

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

// pairs checks that the turns after the system prompt are user/assistant
// pairs starting with the user, as ShareGPT (LLaMA-Factory), Alpaca and
// Vertex require, and returns the reason when they are not.
func pairs(ex *datasets.Example, target string) string {
	t := ex.Turns()
	if len(t) == 0 || t[0].Role != datasets.RoleUser {
		return target + " needs the conversation to start with a user message"
	}
	for i, m := range t {
		want := datasets.RoleUser
		if i%2 == 1 {
			want = datasets.RoleAssistant
		}
		if m.Role != want {
			return fmt.Sprintf("%s needs alternating user/assistant turns; message %d is %s", target, i+1, m.Role)
		}
	}
	if len(t)%2 != 0 {
		return target + " needs the conversation to end with an assistant message"
	}
	return ""
}

type openaiLine struct {
	Messages []datasets.Message `json:"messages"`
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
}

type alpacaLine struct {
	Instruction string      `json:"instruction"`
	Input       string      `json:"input"`
	Output      string      `json:"output"`
	System      string      `json:"system"`
	History     [][2]string `json:"history"`
}

type vertexPart struct {
	Text string `json:"text"`
}

type vertexContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []vertexPart `json:"parts"`
}

type vertexLine struct {
	SystemInstruction *vertexContent  `json:"systemInstruction,omitempty"`
	Contents          []vertexContent `json:"contents"`
}

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

// Encode converts a valid example into one JSON line of the target format,
// or returns why the example cannot be written in it.
func Encode(ex *datasets.Example, target string) ([]byte, string) {
	var v any
	switch target {
	case TargetOpenAI:
		v = openaiLine{Messages: ex.Messages}
	case TargetShareGPT:
		if r := pairs(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		l := sharegptLine{System: ex.System()}
		for _, m := range ex.Turns() {
			from := "human"
			if m.Role == datasets.RoleAssistant {
				from = "gpt"
			}
			l.Conversations = append(l.Conversations, sharegptTurn{from, m.Content})
		}
		v = l
	case TargetAlpaca:
		if r := pairs(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		t := ex.Turns()
		l := alpacaLine{System: ex.System(), Instruction: t[len(t)-2].Content, Output: t[len(t)-1].Content, History: [][2]string{}}
		for i := 0; i+2 < len(t); i += 2 {
			l.History = append(l.History, [2]string{t[i].Content, t[i+1].Content})
		}
		v = l
	case TargetVertex:
		if r := pairs(ex, target); r != "" {
			return nil, r
		}
		if r := unweighted(ex, target); r != "" {
			return nil, r
		}
		var l vertexLine
		if s := ex.System(); s != "" {
			l.SystemInstruction = &vertexContent{Parts: []vertexPart{{s}}}
		}
		for _, m := range ex.Turns() {
			role := "user"
			if m.Role == datasets.RoleAssistant {
				role = "model"
			}
			l.Contents = append(l.Contents, vertexContent{Role: role, Parts: []vertexPart{{m.Content}}})
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
