// Package format validates, deduplicates, splits and exports chat training
// examples: the "format" stage of tuneline.
package format

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// Severity of an Issue.
const (
	SevError   = "error"
	SevWarning = "warning"
)

// Categories of problems found in a single example, besides the row errors of
// datasets (invalid_json, not_object, unknown_shape, bad_field, unsupported_*).
const (
	ErrInvalidUTF8     = "invalid_utf8"
	ErrNoMessages      = "no_messages"
	ErrUnknownRole     = "unknown_role"
	ErrSystemNotFirst  = "system_not_first"
	ErrNotAlternating  = "not_alternating"
	ErrNoAssistant     = "missing_assistant"
	ErrNotEndAssistant = "not_ending_with_assistant"
	ErrEmptyContent    = "empty_content"
	// ErrWeightNotAssistant: OpenAI accepts weight on assistant messages only.
	ErrWeightNotAssistant = "weight_not_on_assistant"
	// ErrNothingToTrain: every assistant turn has weight 0.
	ErrNothingToTrain = "nothing_to_train"
	ErrDuplicateID    = "duplicate_id"
	// Tool calls (OpenAI's shape).
	ErrToolCall       = "bad_tool_call"        // no id, no name, arguments not a JSON object
	ErrToolUnanswered = "tool_call_unanswered" // a call with no tool message answering it
	ErrToolResult     = "tool_result_unmatched"
	ErrToolUndeclared = "tool_not_declared" // a call to a function the tools list lacks
	// Preference pairs.
	ErrPair     = "bad_pair" // rejected is not one assistant reply
	ErrPairSame = "chosen_equals_rejected"

	WarnMissingSystem = "missing_system"
	WarnMissingUser   = "missing_user"
	// WarnAssistantFirst: the conversation (after the system prompt)
	// starts with the assistant. OpenAI accepts it; strict chat templates
	// (Mistral's, Llama 2's) raise on it when the data is trained locally.
	WarnAssistantFirst = "starts_with_assistant"
	WarnOverMaxTokens  = "over_max_tokens"
)

// Issue is one problem of one example.
type Issue struct {
	Pos      datasets.Pos `json:"-"`
	Where    string       `json:"where"`
	ID       string       `json:"id,omitempty"`
	Severity string       `json:"severity"`
	Category string       `json:"category"`
	Reason   string       `json:"reason"`
}

func (i Issue) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", i.Where, i.Severity, i.Category, i.Reason)
}

// Checked is the outcome of checking one record.
type Checked struct {
	Record datasets.Record
	// Tokens is the cookbook token count of the whole example (0 if invalid).
	Tokens int
	// AssistantTokens counts only the assistant messages' content.
	AssistantTokens int
	Issues          []Issue
	// Valid is false when any issue is an error.
	Valid bool
	// Review is the example's state after ScanOptions.Review.
	Review string

	prep *prepared // export's per-example work, done on the workers
}

// Checker checks examples one by one. It remembers the ids it has seen (as
// 64-bit hashes) to report duplicates; one Checker is used per run and is not
// safe for concurrent use, but CheckRecord's stateless part is (see Check).
type Checker struct {
	MaxTokens int
	ids       map[uint64]datasets.Pos
}

// NewChecker returns a Checker that flags examples over maxTokens.
func NewChecker(maxTokens int) *Checker {
	return &Checker{MaxTokens: maxTokens, ids: map[uint64]datasets.Pos{}}
}

var knownRoles = map[string]bool{datasets.RoleSystem: true, datasets.RoleUser: true, datasets.RoleAssistant: true, datasets.RoleTool: true}

// Check runs every per-example rule on rec, counting tokens with tc. It
// keeps no state and may run in parallel with other Check calls (each with
// its own counter).
func Check(rec datasets.Record, tc *tokens.Counter, maxTokens int) Checked {
	return check(rec, tc, maxTokens, nil)
}

// Norm holds the normalised pieces of an example's messages (see
// tokens.CountNorm): message i's are H[Ends[i-1]:Ends[i]].
type Norm struct {
	H    []uint64
	Ends []int
}

// check is Check that also fills norm, when not nil, from the same pass.
func check(rec datasets.Record, tc *tokens.Counter, maxTokens int, norm *Norm) Checked {
	if norm != nil {
		norm.H, norm.Ends = norm.H[:0], norm.Ends[:0]
	}
	c := Checked{Record: rec, Valid: true}
	add := func(sev, cat, format string, args ...any) {
		c.Issues = append(c.Issues, Issue{Pos: rec.Pos, Where: rec.Pos.String(), ID: rec.Example.ID,
			Severity: sev, Category: cat, Reason: fmt.Sprintf(format, args...)})
		if sev == SevError {
			c.Valid = false
		}
	}
	if rec.Err != nil {
		add(SevError, rec.Err.Category, "%s", rec.Err.Reason)
		return c
	}
	if rec.BadUTF8 {
		add(SevError, ErrInvalidUTF8, "the record's bytes are not valid UTF-8")
	}
	msgs := rec.Example.Messages
	if len(msgs) == 0 {
		add(SevError, ErrNoMessages, "the example has no messages")
		return c
	}
	var nUser, nAssistant int
	prev := ""
	var tc8 toolCheck
	for i, m := range msgs {
		n := i + 1
		switch {
		case !knownRoles[m.Role]:
			add(SevError, ErrUnknownRole, "message %d: role %q is not system, user, assistant or tool", n, m.Role)
		case m.Role == datasets.RoleSystem && i > 0:
			add(SevError, ErrSystemNotFirst, "message %d: a system message is allowed only first", n)
		case m.Role != datasets.RoleSystem && m.Role != datasets.RoleTool && m.Role == prev && len(tc8.pending) == 0:
			add(SevError, ErrNotAlternating, "message %d: two %s messages in a row (user and assistant must alternate)", n, m.Role)
		}
		if len(m.ToolCalls) > 0 || m.Role == datasets.RoleTool || len(tc8.pending) > 0 {
			tc8.message(&rec.Example, n, &m, add)
		}
		if strings.TrimSpace(m.Content) == "" && len(m.ToolCalls) == 0 {
			add(SevError, ErrEmptyContent, "message %d (%s): content is empty", n, m.Role)
		}
		if m.Weight != nil && m.Role != datasets.RoleAssistant {
			add(SevError, ErrWeightNotAssistant, "message %d (%s): weight is allowed on assistant messages only", n, m.Role)
		}
		switch m.Role {
		case datasets.RoleUser:
			nUser++
		case datasets.RoleAssistant:
			nAssistant++
		}
		prev = m.Role
	}
	// A conversation may end with the assistant's calls, unanswered: it
	// teaches when to call (OpenAI's and Vertex AI's documented tuning
	// examples end so; LLaMA-Factory and the chat templates take it).
	if last := &msgs[len(msgs)-1]; len(tc8.pending) > 0 && !(tc8.at == len(msgs) && len(tc8.pending) == len(last.ToolCalls)) {
		add(SevError, ErrToolUnanswered, "tool call %s of message %d has no tool message answering it", tc8.pending[0], tc8.at)
	}
	if ex := &rec.Example; ex.IsPair() {
		switch r := ex.Rejected; {
		case len(r) != 1 || r[0].Role != datasets.RoleAssistant:
			add(SevError, ErrPair, "rejected holds %d messages (first %q); a pair's rejected reply is one assistant message", len(r), r[0].Role)
		case strings.TrimSpace(r[0].Content) == "" && len(r[0].ToolCalls) == 0:
			add(SevError, ErrEmptyContent, "the rejected reply is empty")
		case r[0].Content == msgs[len(msgs)-1].Content && sameCalls(r[0].ToolCalls, msgs[len(msgs)-1].ToolCalls):
			add(SevError, ErrPairSame, "the chosen and rejected replies are the same text: nothing to prefer")
		}
	}
	if nAssistant == 0 {
		add(SevError, ErrNoAssistant, "no assistant message: nothing to learn from")
	} else if allSkipped(msgs) {
		add(SevError, ErrNothingToTrain, "every assistant message has weight 0: nothing to learn from")
	} else if last := msgs[len(msgs)-1].Role; last != datasets.RoleAssistant {
		add(SevError, ErrNotEndAssistant, "the last message is %s; an example must end with the assistant's reply", last)
	}
	if msgs[0].Role != datasets.RoleSystem {
		add(SevWarning, WarnMissingSystem, "no system message")
	}
	if nUser == 0 {
		add(SevWarning, WarnMissingUser, "no user message")
	} else if t := rec.Example.Turns(); len(t) > 0 && t[0].Role == datasets.RoleAssistant {
		add(SevWarning, WarnAssistantFirst, "the conversation starts with the assistant: strict chat templates (Mistral, Llama 2) refuse that")
	}
	for _, m := range rec.Example.KeyMessages() {
		var n int
		if norm != nil && !rec.BadUTF8 {
			// The record's bytes are valid UTF-8, so its decoded text is.
			n, norm.H = tc.CountNormValid(m.Content, norm.H)
			norm.Ends = append(norm.Ends, len(norm.H))
		} else if norm != nil {
			n, norm.H = tc.CountNorm(m.Content, norm.H)
			norm.Ends = append(norm.Ends, len(norm.H))
		} else {
			n = tc.Count(m.Content)
		}
		c.Tokens += tc.Message(m.Role, n)
		if m.Role == datasets.RoleAssistant {
			c.AssistantTokens += n
		}
	}
	c.Tokens += tokens.ReplyPrimer
	if t := rec.Example.Tools; t != "" {
		c.Tokens += tc.Count(string(t))
	}
	if maxTokens > 0 && c.Tokens > maxTokens {
		add(SevWarning, WarnOverMaxTokens, "%d tokens, over the %d limit: it will be truncated in training", c.Tokens, maxTokens)
	}
	return c
}

// Seen applies the cross-example rules (duplicate ids) to a checked example,
// in input order.
func (k *Checker) Seen(c *Checked) {
	id := c.Record.Example.ID
	if id == "" || c.Record.Err != nil {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	key := h.Sum64()
	if first, dup := k.ids[key]; dup {
		c.Issues = append(c.Issues, Issue{Pos: c.Record.Pos, Where: c.Record.Pos.String(), ID: id, Severity: SevError,
			Category: ErrDuplicateID, Reason: fmt.Sprintf("id %q was already used at %s", id, first)})
		c.Valid = false
		return
	}
	k.ids[key] = c.Record.Pos
}

// sameCalls tells whether two messages make the same tool calls (none
// included).
func sameCalls(a, b []datasets.ToolCall) bool {
	return slices.EqualFunc(a, b, func(x, y datasets.ToolCall) bool { return x.Function == y.Function })
}

// allSkipped tells whether every assistant message has weight 0.
func allSkipped(msgs []datasets.Message) bool {
	for i := range msgs {
		if msgs[i].Role == datasets.RoleAssistant && !msgs[i].Skipped() {
			return false
		}
	}
	return true
}

// toolCheck follows the tool calls of one conversation: each call is
// well formed and declared, and answered by a tool message before the
// conversation goes on.
type toolCheck struct {
	declared map[string]bool // nil until the tools list is read
	pending  []string        // ids of calls not answered yet
	at       int             // the message that made them
	seen     map[string]bool
}

func (t *toolCheck) message(ex *datasets.Example, n int, m *datasets.Message, add func(sev, cat, format string, args ...any)) {
	if m.Role != datasets.RoleTool && len(t.pending) > 0 {
		add(SevError, ErrToolUnanswered, "message %d (%s) comes before tool call %s of message %d is answered", n, m.Role, t.pending[0], t.at)
		t.pending = t.pending[:0]
	}
	if m.Role == datasets.RoleTool {
		i := slices.Index(t.pending, m.ToolCallID)
		if i < 0 {
			add(SevError, ErrToolResult, "message %d (tool) answers call %q, which no assistant message just before made (or another tool message answered)", n, m.ToolCallID)
			return
		}
		t.pending = slices.Delete(t.pending, i, i+1)
		return
	}
	if t.declared == nil {
		t.declared = map[string]bool{}
		var tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if ex.Tools != "" {
			if err := json.Unmarshal([]byte(ex.Tools), &tools); err != nil {
				add(SevError, ErrToolCall, "tools must be a list of {type: function, function: {name, ...}}: %v", err)
			}
		}
		for _, d := range tools {
			t.declared[d.Function.Name] = true
		}
		t.seen = map[string]bool{}
	}
	t.at = n
	for j, c := range m.ToolCalls {
		switch {
		case c.ID == "":
			add(SevError, ErrToolCall, "message %d: tool call %d has no id", n, j+1)
		case t.seen[c.ID]:
			add(SevError, ErrToolCall, "message %d: tool call id %q is used twice", n, c.ID)
		case c.Type != "function":
			add(SevError, ErrToolCall, "message %d: tool call %s has type %q; only function calls exist", n, c.ID, c.Type)
		case c.Function.Name == "":
			add(SevError, ErrToolCall, "message %d: tool call %s names no function", n, c.ID)
		case !jsonObject(c.Function.Arguments):
			add(SevError, ErrToolCall, "message %d: the arguments of tool call %s (%s) are not a JSON object", n, c.ID, c.Function.Name)
		case !t.declared[c.Function.Name]:
			add(SevError, ErrToolUndeclared, "message %d: tool call %s calls %q, which the example's tools list does not declare", n, c.ID, c.Function.Name)
		}
		t.seen[c.ID] = true
		t.pending = append(t.pending, c.ID)
	}
}

// jsonObject tells whether s is one JSON object.
func jsonObject(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}
