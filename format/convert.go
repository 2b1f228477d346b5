package format

import (
	"encoding/json"
	"fmt"

	"github.com/tuneline/tuneline/datasets"
)

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
	t := toolRuns(ex.Turns())
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
			return fmt.Sprintf("%s needs alternating user/assistant turns; message %d is %s", target, i+1, m.Role)
		}
	}
	if len(t)%2 != 0 {
		return target + " needs the conversation to end with an assistant message"
	}
	return ""
}

// toolRuns is the turns with each run of tool messages (the results of
// parallel calls) as one: ShareGPT writes them as one observation turn,
// Vertex as one user turn of functionResponse parts.
func toolRuns(t []datasets.Message) []datasets.Message {
	out := make([]datasets.Message, 0, len(t))
	for i := range t {
		if i > 0 && t[i].Role == datasets.RoleTool && t[i-1].Role == datasets.RoleTool {
			continue
		}
		out = append(out, t[i])
	}
	return out
}

// kindMismatch says why an example is not of the export's kind, or "".
func kindMismatch(ex *datasets.Example, pairs bool) string {
	switch {
	case ex.IsPair() == pairs:
		return ""
	case pairs:
		return "the export holds preference pairs (its kind); this example has no rejected reply"
	}
	return "the export holds chat examples (its kind); this example is a preference pair"
}

// jsonLine is v as one line of JSON Lines, or why it cannot be written.
func jsonLine(v any) ([]byte, string) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err.Error()
	}
	return append(b, '\n'), ""
}
