package datasets

import (
	"bytes"
	"encoding/json"
)

// Input shapes of preference pairs.
const (
	// FormatOpenAIDPO is OpenAI's preference fine-tuning line: input
	// {messages, tools}, preferred_output and non_preferred_output.
	FormatOpenAIDPO = "openai-dpo"
	// FormatTRL is TRL's preference row: prompt, chosen and rejected, as
	// message lists (conversational) or strings (standard), the prompt
	// explicit or implicit (the shared start of chosen and rejected).
	FormatTRL = "trl"
)

// toolsOf keeps a tools list as JSON text ("" when absent or empty).
func toolsOf(r json.RawMessage) RawJSON {
	if !present(r) {
		return ""
	}
	var c bytes.Buffer
	if json.Compact(&c, r) != nil {
		return RawJSON(bytes.TrimSpace(r))
	}
	return RawJSON(c.String())
}

// alpacaUser is the user turn of an Alpaca record: instruction, then input.
func alpacaUser(w *wireRecord) (string, *RowError) {
	user := *w.Instruction
	if in := bytes.TrimSpace(w.Input); len(in) > 0 && string(in) != "null" {
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return "", rowErr(ErrBadField, "alpaca \"input\" must be a string")
		}
		if s != "" {
			if user != "" {
				user += "\n"
			}
			user += s
		}
	}
	return user, nil
}

// messagesOf reads a list of OpenAI messages, a single message object, or
// a string (one message with role def).
func messagesOf(r json.RawMessage, where, def string) ([]Message, *RowError) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 || string(r) == "null" {
		return nil, rowErr(ErrBadField, "%q is missing", where)
	}
	switch r[0] {
	case '"':
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return nil, rowErr(ErrBadField, "%q: %v", where, err)
		}
		return []Message{{Role: def, Content: s}}, nil
	case '{':
		r = append(append([]byte{'['}, r...), ']')
	}
	var w []wireMessage
	if err := json.Unmarshal(r, &w); err != nil {
		return nil, rowErr(ErrBadField, "%q must be a list of messages, a message or a string: %v", where, err)
	}
	for i := range w { // ShareGPT-style {from, value} turns
		if w[i].Role == nil && w[i].From != nil {
			role, ok := shareGPTRoles[*w[i].From]
			if !ok {
				role = *w[i].From
			}
			w[i].Role = &role
			if w[i].Value != nil && !w[i].Content.Set {
				w[i].Content = wireContent{Set: true, Text: *w[i].Value}
			}
		}
	}
	msgs, e := convertOpenAI(w)
	if e != nil {
		e.Reason = where + ": " + e.Reason
	}
	return msgs, e
}

// pairSide reads the chosen or rejected reply of a pair.
func pairSide(r json.RawMessage, where string) ([]Message, *RowError) {
	return messagesOf(r, where, RoleAssistant)
}

// convertOpenAIDPO reads {"input": {"messages", "tools"},
// "preferred_output": [...], "non_preferred_output": [...]}.
func convertOpenAIDPO(w *wireRecord) (Example, *RowError) {
	var in struct {
		Messages []wireMessage   `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
		Parallel *bool           `json:"parallel_tool_calls"`
	}
	if err := json.Unmarshal(w.Input, &in); err != nil || in.Messages == nil {
		return Example{}, rowErr(ErrBadField, "openai preference line: \"input\" must be an object with \"messages\"")
	}
	prompt, e := convertOpenAI(in.Messages)
	if e != nil {
		return Example{}, e
	}
	chosen, e := pairSide(w.Preferred, "preferred_output")
	if e != nil {
		return Example{}, e
	}
	rejected, e := pairSide(w.NonPreferred, "non_preferred_output")
	if e != nil {
		return Example{}, e
	}
	return Example{Messages: append(prompt, chosen...), Rejected: rejected, Tools: toolsOf(in.Tools), ParallelToolCalls: in.Parallel}, nil
}

// convertRanking reads the records with chosen/rejected keys: TRL's
// (prompt explicit or implicit), LLaMA-Factory's ShareGPT ranking
// (conversations, chosen, rejected) and Alpaca ranking (instruction,
// input, chosen, rejected).
func convertRanking(w *wireRecord) (Example, string, *RowError) {
	if !present(w.Chosen) || !present(w.Rejected) {
		return Example{}, "", rowErr(ErrPreferencePair, "a preference pair needs both \"chosen\" and \"rejected\"")
	}
	var ex Example
	var format string
	var e *RowError
	switch {
	case w.Conversations != nil:
		format = FormatShareGPT
		ex.Messages, ex.Tools, e = convertShareGPT(w)
	case w.Instruction != nil:
		format = FormatAlpaca
		var user string
		if ex.Messages, e = alpacaHistory(w); e == nil {
			if user, e = alpacaUser(w); e == nil {
				ex.Messages = append(ex.Messages, Message{Role: RoleUser, Content: user})
			}
		}
	case present(w.Prompt):
		format = FormatTRL
		ex.Messages, e = messagesOf(w.Prompt, "prompt", RoleUser)
		ex.Tools = toolsOf(w.Tools)
	default: // TRL's implicit prompt: chosen and rejected share it
		format = FormatTRL
		chosen, e := messagesOf(w.Chosen, "chosen", RoleAssistant)
		if e != nil {
			return Example{}, format, e
		}
		rejected, e := messagesOf(w.Rejected, "rejected", RoleAssistant)
		if e != nil {
			return Example{}, format, e
		}
		n := len(chosen) - 1
		if n < 1 || len(rejected) != n+1 {
			return Example{}, format, rowErr(ErrPreferencePair, "implicit-prompt pair: chosen and rejected must be the same conversation (%d and %d messages) differing only in the last reply", len(chosen), len(rejected))
		}
		for i := range n {
			if chosen[i].Role != rejected[i].Role || chosen[i].Content != rejected[i].Content {
				return Example{}, format, rowErr(ErrPreferencePair, "implicit-prompt pair: chosen and rejected differ at message %d, before their last reply", i+1)
			}
		}
		return Example{Messages: chosen, Rejected: rejected[n:], Tools: toolsOf(w.Tools)}, format, nil
	}
	if e != nil {
		return Example{}, format, e
	}
	chosen, e := pairSide(w.Chosen, "chosen")
	if e != nil {
		return Example{}, format, e
	}
	rejected, e := pairSide(w.Rejected, "rejected")
	if e != nil {
		return Example{}, format, e
	}
	if len(chosen) != 1 {
		return Example{}, format, rowErr(ErrPreferencePair, "chosen holds %d messages; a pair's reply is one assistant message", len(chosen))
	}
	ex.Messages = append(ex.Messages, chosen...)
	ex.Rejected = rejected
	return ex, format, nil
}
