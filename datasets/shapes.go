package datasets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Input shapes a record can be read from.
const (
	FormatOpenAI   = "openai"
	FormatShareGPT = "sharegpt"
	FormatAlpaca   = "alpaca"
	FormatVertex   = "vertex"
	// FormatHF is the Hugging Face Parquet dataset: an export target
	// (format.TargetHF), named here with the others so that every
	// format's name is written once.
	FormatHF          = "hf"
	FormatInteraction = "interaction-log"
)

// Categories of a record refused while reading.
const (
	ErrInvalidJSON     = "invalid_json"
	ErrNotObject       = "not_object"
	ErrUnknownShape    = "unknown_shape"
	ErrBadField        = "bad_field"
	ErrToolCalls       = "unsupported_tool_calls"
	ErrPreferencePair  = "unsupported_preference_pair"
	ErrPreferenceLabel = "unsupported_preference_label"
	ErrImages          = "unsupported_media"
	ErrTooLong         = "record_too_long" // over MaxRecord: not read
)

// MaxScore bounds a score in an example's meta: judges write 1-5, 0-10,
// 0-1 or percentages; no sum of them overflows.
const MaxScore = 100

// RowError is why one record was refused. Category is one of the Err*
// constants; Reason says what was found, in words a user can act on.
type RowError struct {
	Category string
	Reason   string
}

func (e *RowError) Error() string { return e.Category + ": " + e.Reason }

func rowErr(cat, format string, args ...any) *RowError {
	return &RowError{Category: cat, Reason: fmt.Sprintf(format, args...)}
}

// wirePart is a content part: OpenAI/LLaMA-Factory {"type","text"|"value"} or
// Vertex {"text"} / {"inlineData"} / {"functionCall"}.
type wirePart struct {
	Type             string          `json:"type"`
	Text             *string         `json:"text"`
	Value            *string         `json:"value"`
	InlineData       json.RawMessage `json:"inlineData"`
	FileData         json.RawMessage `json:"fileData"`
	FunctionCall     json.RawMessage `json:"functionCall"`
	FunctionResponse json.RawMessage `json:"functionResponse"`
}

// wireContent is a message content: a string, or a list of parts.
type wireContent struct {
	Set   bool
	Null  bool
	Text  string
	Parts []wirePart
}

func (c *wireContent) UnmarshalJSON(b []byte) error {
	c.Set = true
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		return json.Unmarshal(b, &c.Parts)
	case bytes.Equal(b, []byte("null")):
		c.Null = true
		return nil
	}
	return errors.New("content must be a string or a list of parts")
}

type wireMessage struct {
	Role         *string         `json:"role"`
	Name         *string         `json:"name"`
	Weight       json.RawMessage `json:"weight"`
	Content      wireContent     `json:"content"`
	From         *string         `json:"from"`
	Value        *string         `json:"value"`
	Parts        []wirePart      `json:"parts"`
	ToolCalls    json.RawMessage `json:"tool_calls"`
	ToolCallID   *string         `json:"tool_call_id"`
	FunctionCall json.RawMessage `json:"function_call"`
}

type wireRecord struct {
	ID       json.RawMessage `json:"id"`
	Meta     *Meta           `json:"meta"`
	Messages []wireMessage   `json:"messages"`

	Conversations []wireMessage   `json:"conversations"`
	System        *string         `json:"system"`
	Tools         json.RawMessage `json:"tools"`
	Instruction   *string         `json:"instruction"`
	Input         json.RawMessage `json:"input"`
	Prompt        json.RawMessage `json:"prompt"`
	Preferred     json.RawMessage `json:"preferred_output"`
	NonPreferred  json.RawMessage `json:"non_preferred_output"`
	Output        json.RawMessage `json:"output"`
	History       json.RawMessage `json:"history"`
	SysInstr      *wireMessage    `json:"systemInstruction"`
	SysInstrSnake *wireMessage    `json:"system_instruction"` // as Vertex AI's tuning docs spell it
	ParallelCalls *bool           `json:"parallel_tool_calls"`
	Contents      []wireMessage   `json:"contents"`
	Chosen        json.RawMessage `json:"chosen"`
	Rejected      json.RawMessage `json:"rejected"`
	Label         json.RawMessage `json:"label"`
	KTOTag        json.RawMessage `json:"kto_tag"`
	Images        json.RawMessage `json:"images"`
	Videos        json.RawMessage `json:"videos"`
	Audios        json.RawMessage `json:"audios"`
	Timestamp     json.RawMessage `json:"timestamp"`
	Query         *string         `json:"query"`
	User          *string         `json:"user"`
	Response      *string         `json:"response"`
	Assistant     *string         `json:"assistant"`
	Rating        json.RawMessage `json:"rating"`
}

func present(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return false
	}
	switch string(r) {
	case "null", "[]", "{}", `""`, "false":
		return false
	}
	return true
}

// ParseRecord turns one JSON value into an example. The shape is detected
// from its keys. A record that cannot become a supervised chat example is
// refused with a *RowError saying why; nothing is dropped silently.
func ParseRecord(b []byte) (Example, string, *RowError) { return parseAny(b, false) }

// parseAny is ParseRecord; with alias, strings may point into b (see
// parseOpenAIFast).
func parseAny(b []byte, alias bool) (Example, string, *RowError) {
	if ex, ok := parseOpenAIFast(b, alias); ok {
		return ex, FormatOpenAI, nil
	}
	return parseRecord(b)
}

// parseRecord is ParseRecord without the fast path.
func parseRecord(b []byte) (Example, string, *RowError) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		if json.Valid(b) {
			return Example{}, "", rowErr(ErrNotObject, "expected a JSON object, found %s", jsonKind(b))
		}
		return Example{}, "", rowErr(ErrInvalidJSON, "%s", jsonSyntaxReason(b))
	}
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || !json.Valid(b) {
			return Example{}, "", rowErr(ErrInvalidJSON, "%s", jsonSyntaxReason(b))
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Example{}, "", rowErr(ErrBadField, "field %q: expected %s, found %s", te.Field, te.Type, te.Value)
		}
		return Example{}, "", rowErr(ErrBadField, "%v", err)
	}
	if len(bytes.TrimSpace(w.Label)) > 0 || len(bytes.TrimSpace(w.KTOTag)) > 0 {
		return Example{}, "", rowErr(ErrPreferenceLabel, "KTO label on the example marks it desirable/undesirable: preference data, not a supervised chat example")
	}
	if present(w.Images) || present(w.Videos) || present(w.Audios) {
		return Example{}, "", rowErr(ErrImages, "example carries images, videos or audio; only text is supported")
	}

	var ex Example
	var format string
	var rerr *RowError
	switch {
	case present(w.Preferred) || present(w.NonPreferred):
		format = FormatOpenAIDPO
		ex, rerr = convertOpenAIDPO(&w)
	case w.Messages != nil && present(w.Rejected) && !present(w.Chosen):
		format = FormatOpenAI // tuneline's own pair: prompt and chosen in messages
		if ex.Messages, rerr = convertOpenAI(w.Messages); rerr == nil {
			ex.Rejected, rerr = pairSide(w.Rejected, "rejected")
			ex.Tools, ex.ParallelToolCalls = toolsOf(w.Tools), w.ParallelCalls
		}
	case present(w.Chosen) || present(w.Rejected):
		ex, format, rerr = convertRanking(&w)
	case w.Messages != nil:
		format = FormatOpenAI
		ex.Messages, rerr = convertOpenAI(w.Messages)
		ex.Tools, ex.ParallelToolCalls = toolsOf(w.Tools), w.ParallelCalls
	case w.Conversations != nil:
		format = FormatShareGPT
		ex.Messages, ex.Tools, rerr = convertShareGPT(&w)
	case w.Instruction != nil:
		format = FormatAlpaca
		ex.Messages, rerr = convertAlpaca(&w)
	case w.Contents != nil:
		format = FormatVertex
		ex.Messages, ex.Tools, rerr = convertVertex(&w)
	case (w.Query != nil || w.User != nil) && (w.Response != nil || w.Assistant != nil):
		format = FormatInteraction
		ex.Messages = []Message{
			{Role: RoleUser, Content: firstOf(w.Query, w.User)},
			{Role: RoleAssistant, Content: firstOf(w.Response, w.Assistant)},
		}
	default:
		return Example{}, "", rowErr(ErrUnknownShape, "no messages, conversations, instruction, contents or query/response key")
	}
	if rerr != nil {
		return Example{}, format, rerr
	}
	ex.ID = idString(w.ID)
	if w.Meta != nil {
		ex.Meta = *w.Meta
	}
	for k, v := range ex.Meta.Scores {
		// A score of 1.7e308 summed to +Inf and broke report and stats.
		if math.IsNaN(v) || v < 0 || v > MaxScore {
			return Example{}, format, rowErr(ErrBadField, "meta.scores.%s is %g: a score is from 0 to %d (tuneline's judge writes 1-5)", k, v, MaxScore)
		}
	}
	ex.Meta.Format = format
	if format == FormatInteraction && present(w.Rating) {
		if ex.Meta.Extra == nil {
			ex.Meta.Extra = map[string]string{}
		}
		ex.Meta.Extra["rating"] = idString(w.Rating)
	}
	return ex, format, nil
}

func firstOf(a, b *string) string {
	if a != nil {
		return *a
	}
	if b != nil {
		return *b
	}
	return ""
}

func idString(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// partsText joins the text parts; media and tool parts refuse the record.
func partsText(parts []wirePart, where string) (string, *RowError) {
	var sb strings.Builder
	for i, p := range parts {
		switch {
		case present(p.FunctionCall) || present(p.FunctionResponse):
			return "", rowErr(ErrToolCalls, "%s part %d is a function call or response", where, i)
		case present(p.InlineData) || present(p.FileData):
			return "", rowErr(ErrImages, "%s part %d carries inline or file data", where, i)
		case p.Type != "" && p.Type != "text":
			return "", rowErr(ErrImages, "%s part %d has type %q; only text is supported", where, i, p.Type)
		}
		switch {
		case p.Text != nil:
			sb.WriteString(*p.Text)
		case p.Value != nil:
			sb.WriteString(*p.Value)
		default:
			return "", rowErr(ErrBadField, "%s part %d has no text", where, i)
		}
	}
	return sb.String(), nil
}

func convertOpenAI(in []wireMessage) ([]Message, *RowError) {
	out := make([]Message, 0, len(in))
	for i, m := range in {
		where := fmt.Sprintf("messages[%d]", i)
		if m.Role == nil {
			return nil, rowErr(ErrBadField, "%s has no role", where)
		}
		role := *m.Role
		if role == "function" || present(m.FunctionCall) {
			return nil, rowErr(ErrToolCalls, "%s is a legacy function call or result (role %q): give it as tool_calls and a tool message", where, role)
		}
		var calls []ToolCall
		if present(m.ToolCalls) {
			if role != RoleAssistant {
				return nil, rowErr(ErrBadField, "%s: tool_calls on a %s message; only the assistant calls tools", where, role)
			}
			if err := json.Unmarshal(m.ToolCalls, &calls); err != nil {
				return nil, rowErr(ErrBadField, "%s: tool_calls must be a list of {id, type, function: {name, arguments}}: %v", where, err)
			}
			for j := range calls {
				if calls[j].Type == "" {
					calls[j].Type = "function"
				}
			}
		}
		if (!m.Content.Set || m.Content.Null) && len(calls) > 0 {
			m.Content = wireContent{Set: true} // a call without text
		}
		if !m.Content.Set || m.Content.Null {
			return nil, rowErr(ErrBadField, "%s has no content", where)
		}
		text := m.Content.Text
		if m.Content.Parts != nil {
			var e *RowError
			if text, e = partsText(m.Content.Parts, where); e != nil {
				return nil, e
			}
		}
		msg := Message{Role: role, Content: text, ToolCalls: calls}
		if m.ToolCallID != nil {
			msg.ToolCallID = *m.ToolCallID
		}
		if m.Name != nil {
			msg.Name = *m.Name
		}
		if present(m.Weight) {
			var w int32
			if err := json.Unmarshal(m.Weight, &w); err != nil || w < 0 || w > 1 {
				return nil, rowErr(ErrBadField, "%s: weight must be 0 or 1, got %s", where, m.Weight)
			}
			msg.Weight = &w
		}
		out = append(out, msg)
	}
	return out, nil
}

// shareGPTRoles maps ShareGPT "from" tags to canonical roles.
var shareGPTRoles = map[string]string{
	"system": RoleSystem, "human": RoleUser, "user": RoleUser,
	"gpt": RoleAssistant, "assistant": RoleAssistant, "model": RoleAssistant, "chatgpt": RoleAssistant,
}

func convertShareGPT(w *wireRecord) ([]Message, RawJSON, *RowError) {
	tools, e := shareGPTTools(w.Tools)
	if e != nil {
		return nil, "", e
	}
	out := make([]Message, 0, len(w.Conversations)+1)
	if w.System != nil && *w.System != "" {
		out = append(out, Message{Role: RoleSystem, Content: *w.System})
	}
	for i, m := range w.Conversations {
		where := fmt.Sprintf("conversations[%d]", i)
		from, value := m.From, m.Value
		if from == nil && m.Role != nil { // some ShareGPT files use role/content
			from = m.Role
		}
		if value == nil && m.Content.Set && !m.Content.Null && m.Content.Parts == nil {
			value = &m.Content.Text
		}
		if from == nil {
			return nil, "", rowErr(ErrBadField, "%s has no \"from\"", where)
		}
		if value == nil {
			return nil, "", rowErr(ErrBadField, "%s has no \"value\"", where)
		}
		switch *from {
		case "function_call":
			calls, e := shareGPTCalls(*value, i, where)
			if e != nil {
				return nil, "", e
			}
			out = append(out, Message{Role: RoleAssistant, ToolCalls: calls})
			continue
		case "observation":
			// The result answers the first call not yet answered.
			id := ""
			answered := map[string]bool{}
			for j := len(out) - 1; j >= 0 && id == ""; j-- {
				if out[j].Role == RoleTool {
					answered[out[j].ToolCallID] = true
					continue
				}
				for _, c := range out[j].ToolCalls {
					if !answered[c.ID] {
						id = c.ID
						break
					}
				}
				break
			}
			if id == "" {
				return nil, "", rowErr(ErrBadField, "%s: an observation with no function_call before it to answer", where)
			}
			out = append(out, Message{Role: RoleTool, Content: *value, ToolCallID: id})
			continue
		case "tool", "function":
			return nil, "", rowErr(ErrToolCalls, "%s is a %q turn; LLaMA-Factory's tags are function_call and observation", where, *from)
		}
		role, ok := shareGPTRoles[*from]
		if !ok {
			role = *from // left for the validator to report as an unknown role
		}
		out = append(out, Message{Role: role, Content: *value})
	}
	return out, tools, nil
}

func convertAlpaca(w *wireRecord) ([]Message, *RowError) {
	var output string
	o := bytes.TrimSpace(w.Output)
	switch {
	case len(o) == 0 || string(o) == "null":
		return nil, rowErr(ErrBadField, "alpaca record has no \"output\"")
	case o[0] == '[':
		return nil, rowErr(ErrPreferencePair, "alpaca \"output\" is a list (chosen/rejected pair)")
	default:
		if err := json.Unmarshal(o, &output); err != nil {
			return nil, rowErr(ErrBadField, "alpaca \"output\" must be a string")
		}
	}
	msgs, e := alpacaHistory(w)
	if e != nil {
		return nil, e
	}
	user, e := alpacaUser(w)
	if e != nil {
		return nil, e
	}
	msgs = append(msgs, Message{Role: RoleUser, Content: user}, Message{Role: RoleAssistant, Content: output})
	return msgs, nil
}

// alpacaHistory is an Alpaca record's system prompt and earlier turns.
func alpacaHistory(w *wireRecord) ([]Message, *RowError) {
	var msgs []Message
	if w.System != nil && *w.System != "" {
		msgs = append(msgs, Message{Role: RoleSystem, Content: *w.System})
	}
	if h := bytes.TrimSpace(w.History); len(h) > 0 && string(h) != "null" {
		var hist [][]string
		if err := json.Unmarshal(h, &hist); err != nil {
			return nil, rowErr(ErrBadField, "alpaca \"history\" must be a list of [instruction, response] pairs")
		}
		for i, pair := range hist {
			if len(pair) != 2 {
				return nil, rowErr(ErrBadField, "alpaca history[%d] has %d items, want 2", i, len(pair))
			}
			msgs = append(msgs, Message{Role: RoleUser, Content: pair[0]}, Message{Role: RoleAssistant, Content: pair[1]})
		}
	}
	return msgs, nil
}

func jsonKind(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonSyntaxReason describes where a JSON value stops being valid.
func jsonSyntaxReason(b []byte) string {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// Pos is a place in an input file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}
