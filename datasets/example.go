// Package datasets defines the training example every tuneline stage reads and
// writes, and the readers and writers for the files that hold examples: JSONL
// in the shapes people already have (OpenAI messages, ShareGPT, Alpaca, Vertex
// Gemini, interaction logs), Parquet, and atomic file output.
package datasets

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Roles of a chat message in the canonical schema.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	// RoleTool is a tool's result, answering the assistant's tool call
	// named by Message.ToolCallID (OpenAI's tool-calling shape).
	RoleTool = "tool"
)

// Message is one chat turn. Name and Weight are OpenAI's optional message
// fields: a participant's name, and on assistant messages whether to train
// on the turn (weight 0: shown as context, not learned).
type Message struct {
	Role    string `json:"role" parquet:"role,dict"`
	Content string `json:"content" parquet:"content"`
	Name    string `json:"name,omitempty" parquet:"name,optional,dict"`
	Weight  *int32 `json:"weight,omitempty" parquet:"weight,optional"`
	// ToolCalls are the functions an assistant message calls (its content
	// may then be empty); ToolCallID is the call a tool message answers.
	// They are stored in Parquet only by exports that hold tool calls
	// (ToolRow), so that other exports keep the plain message columns.
	ToolCalls  []ToolCall `json:"tool_calls,omitempty" parquet:"-"`
	ToolCallID string     `json:"tool_call_id,omitempty" parquet:"-"`
}

// ToolCall is one function call of an assistant message, in OpenAI's shape.
type ToolCall struct {
	ID       string       `json:"id" parquet:"id"`
	Type     string       `json:"type" parquet:"type,dict"`
	Function FunctionCall `json:"function" parquet:"function"`
}

// FunctionCall names the function and gives its arguments as JSON text.
type FunctionCall struct {
	Name      string `json:"name" parquet:"name,dict"`
	Arguments string `json:"arguments" parquet:"arguments"`
}

// RawJSON is a JSON value kept as its text: it is written back as JSON,
// not as a string holding JSON.
type RawJSON string

// MarshalJSON writes the value itself.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

// UnmarshalJSON keeps the value's text.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = ""
		return nil
	}
	*r = RawJSON(b)
	return nil
}

// Skipped tells whether the message is marked not to be trained on.
func (m *Message) Skipped() bool { return m.Weight != nil && *m.Weight == 0 }

// Example is one training example: a conversation plus where it came from.
type Example struct {
	ID       string    `json:"id,omitempty" parquet:"id"`
	Messages []Message `json:"messages" parquet:"messages,list"`
	// Tools declares the functions the conversation may call: OpenAI's
	// tools list, as JSON.
	Tools RawJSON `json:"tools,omitempty" parquet:"-"`
	// ParallelToolCalls is OpenAI's per-line parallel_tool_calls (nil:
	// not given), kept for the openai export.
	ParallelToolCalls *bool `json:"parallel_tool_calls,omitempty" parquet:"-"`
	// Rejected makes the example a preference pair: Messages is the prompt
	// followed by the chosen reply (its last message), Rejected holds the
	// one reply not preferred to it.
	Rejected []Message `json:"rejected,omitempty" parquet:"-"`
	Meta     Meta      `json:"meta,omitzero" parquet:"meta"`
}

// IsPair tells whether the example is a preference pair.
func (e *Example) IsPair() bool { return len(e.Rejected) > 0 }

// HasTools tells whether the example declares tools or holds tool calls.
func (e *Example) HasTools() bool {
	if e.Tools != "" {
		return true
	}
	for i := range e.Messages {
		if len(e.Messages[i].ToolCalls) > 0 || e.Messages[i].Role == RoleTool {
			return true
		}
	}
	return false
}

// Prompt is a pair's prompt: the messages before the chosen reply.
func (e *Example) Prompt() []Message {
	if len(e.Messages) == 0 {
		return nil
	}
	return e.Messages[:len(e.Messages)-1]
}

// Chosen is a pair's chosen reply.
func (e *Example) Chosen() []Message {
	if len(e.Messages) == 0 {
		return nil
	}
	return e.Messages[len(e.Messages)-1:]
}

// KeyMessages are the messages that make an example what it is, for ids
// and duplicate detection: the messages, with each tool call's name and
// arguments added to its message's text, then a pair's rejected reply
// under the role "rejected". Plain examples return Messages itself.
func (e *Example) KeyMessages() []Message {
	plain := len(e.Rejected) == 0
	for i := range e.Messages {
		if len(e.Messages[i].ToolCalls) > 0 || e.Messages[i].ToolCallID != "" {
			plain = false
			break
		}
	}
	if plain {
		return e.Messages
	}
	out := make([]Message, 0, len(e.Messages)+len(e.Rejected))
	for _, m := range e.Messages {
		if len(m.ToolCalls) > 0 || m.ToolCallID != "" {
			var sb strings.Builder
			sb.WriteString(m.Content)
			for _, c := range m.ToolCalls {
				sb.WriteString("\n")
				sb.WriteString(c.Function.Name)
				sb.WriteString(" ")
				sb.WriteString(compactJSON(c.Function.Arguments))
			}
			m = Message{Role: m.Role, Content: sb.String()}
		}
		out = append(out, m)
	}
	for _, m := range e.Rejected {
		out = append(out, Message{Role: "rejected", Content: m.Content})
	}
	return out
}

// Meta holds an example's provenance, the persona that voiced it and the
// scores a judge gave it. Fields are typed so that Parquet columns are typed;
// anything else found in an input's meta object is kept in Extra as JSON text.
type Meta struct {
	// Origin is where the example was read from, "file:line".
	Origin string `json:"origin,omitempty" parquet:"origin,optional"`
	// Format is the input shape it was read from (openai, sharegpt, ...).
	Format string `json:"format,omitempty" parquet:"format,optional,dict"`

	Source    string  `json:"source,omitempty" parquet:"source,optional,dict"`
	DocID     string  `json:"doc_id,omitempty" parquet:"doc_id,optional,dict"`
	ChunkID   string  `json:"chunk_id,omitempty" parquet:"chunk_id,optional"`
	Title     string  `json:"title,omitempty" parquet:"title,optional,dict"`
	Section   string  `json:"section,omitempty" parquet:"section,optional,dict"`
	PageStart int32   `json:"page_start,omitempty" parquet:"page_start,optional"`
	PageEnd   int32   `json:"page_end,omitempty" parquet:"page_end,optional"`
	TimeStart float64 `json:"time_start,omitempty" parquet:"time_start,optional"`
	TimeEnd   float64 `json:"time_end,omitempty" parquet:"time_end,optional"`
	Speaker   string  `json:"speaker,omitempty" parquet:"speaker,optional,dict"`

	Persona      string `json:"persona,omitempty" parquet:"persona,optional,dict"`
	Model        string `json:"model,omitempty" parquet:"model,optional,dict"`
	Kind         string `json:"kind,omitempty" parquet:"kind,optional,dict"`
	QuestionType string `json:"question_type,omitempty" parquet:"question_type,optional,dict"`

	Scores map[string]float64 `json:"scores,omitempty" parquet:"scores,optional"`
	Extra  map[string]string  `json:"extra,omitempty" parquet:"extra,optional"`
}

// knownMetaKeys are the JSON names of Meta's typed fields.
var knownMetaKeys = map[string]bool{
	"origin": true, "format": true, "source": true, "doc_id": true, "chunk_id": true,
	"title": true, "section": true, "page_start": true, "page_end": true,
	"time_start": true, "time_end": true, "speaker": true, "persona": true,
	"model": true, "kind": true, "question_type": true, "scores": true, "extra": true,
}

// UnmarshalJSON reads the typed fields and keeps every other key in Extra.
func (m *Meta) UnmarshalJSON(b []byte) error {
	type plain Meta
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if knownMetaKeys[k] {
			continue
		}
		if p.Extra == nil {
			p.Extra = map[string]string{}
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			p.Extra[k] = s
		} else {
			p.Extra[k] = string(v)
		}
	}
	*m = Meta(p)
	return nil
}

// System returns the example's system prompt, or "" when it has none.
func (e *Example) System() string {
	if len(e.Messages) > 0 && e.Messages[0].Role == RoleSystem {
		return e.Messages[0].Content
	}
	return ""
}

// Turns returns the messages after the system prompt.
func (e *Example) Turns() []Message {
	if len(e.Messages) > 0 && e.Messages[0].Role == RoleSystem {
		return e.Messages[1:]
	}
	return e.Messages
}

// ContentID is a stable id derived from the messages alone: the same
// conversation always gets the same id, wherever it was read from. It is
// the 64-bit XXH64 of the roles and contents (each followed by a zero
// byte): an id, not a signature, and hashed at memory speed (SHA-256 took
// a fifth of the export's serial path; see BENCHMARKS.md).
func ContentID(msgs []Message) string {
	var d xxhash.Digest
	d.Reset()
	// The zero after a content and the next role with its zero go in as
	// one write (the digest's per-call cost is worth saving here).
	var sep [32]byte
	for i, m := range msgs {
		t := sep[:0]
		if i > 0 {
			t = append(t, 0)
		}
		if len(m.Role) < len(sep)-1 {
			t = append(append(t, m.Role...), 0)
			d.Write(t)
		} else {
			d.Write(t)
			d.WriteString(m.Role)
			d.Write(zero[:])
		}
		d.WriteString(m.Content)
	}
	if len(msgs) > 0 {
		d.Write(zero[:])
	}
	var b [3 + 16]byte
	copy(b[:], "ex-")
	hex.Encode(b[3:], binary.BigEndian.AppendUint64(nil, d.Sum64()))
	return string(b[:])
}

var zero = [1]byte{}

// EnsureID gives the example a content-derived id when it has none.
func (e *Example) EnsureID() {
	if strings.TrimSpace(e.ID) == "" {
		e.ID = ContentID(e.KeyMessages())
	}
}

// compactJSON is s without insignificant white space, or s when it is not
// JSON: the same call written by two tools has one key.
func compactJSON(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return s
	}
	return b.String()
}
