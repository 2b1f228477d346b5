package format

import (
	"github.com/tuneline/tuneline/datasets"
)

// TargetOpenAI is OpenAI's chat fine-tuning JSONL (also read by TRL's
// SFTTrainer), with its DPO lines for preference pairs.
const TargetOpenAI = datasets.FormatOpenAI

var openaiTarget = &Target{
	Name:     TargetOpenAI,
	Files:    "train.jsonl, validation.jsonl",
	Reader:   `{"messages":[{"role","content"}]} (OpenAI, TRL SFTTrainer)`,
	Holds:    Holds{Tools: true, Pairs: true},
	ToolsDoc: "as they are (tools, tool_calls, tool messages)",
	PairsDoc: "OpenAI DPO lines (input, preferred_output, non_preferred_output)",
	encode:   encodeOpenAI,
	newSink:  jsonlSinkOf,
	limits:   openaiLimits,
}

func encodeOpenAI(ex *datasets.Example, pairs bool) ([]byte, string) {
	var v any
	switch {
	case pairs:
		var l openaiPairLine
		l.Input.Messages = openaiMessages(ex.Prompt())
		l.Input.Tools, l.Input.Parallel = ex.Tools, ex.ParallelToolCalls
		l.Preferred = openaiMessages(ex.Chosen())
		l.NonPreferred = openaiMessages(ex.Rejected)
		v = l
	case ex.HasTools():
		v = openaiToolLine{Messages: openaiMessages(ex.Messages), Tools: ex.Tools, Parallel: ex.ParallelToolCalls}
	default:
		v = openaiLine{Messages: ex.Messages}
	}
	return jsonLine(v)
}

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
	// Parallel is parallel_tool_calls, part of OpenAI's per-line schema.
	Parallel *bool `json:"parallel_tool_calls,omitempty"`
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
		Parallel *bool            `json:"parallel_tool_calls,omitempty"`
	} `json:"input"`
	Preferred    []openaiMessage `json:"preferred_output"`
	NonPreferred []openaiMessage `json:"non_preferred_output"`
}

// OpenAI's documented fine-tuning limits: at least 10 training examples,
// and per model a longest example (its training context).
const OpenAIMinExamples = 10

// OpenAIModelTokens is the training context of one example, per model that
// can be fine-tuned.
var OpenAIModelTokens = []struct {
	Model  string
	Tokens int64
}{
	{"gpt-4o-mini-2024-07-18", 65536},
	{"gpt-4o-2024-08-06", 65536},
	{"gpt-3.5-turbo-0125", 16385},
}

func openaiLimits(r *Report) {
	longest := int64(max(r.Splits[SplitTrain].Tokens.Max, r.Splits[SplitValidation].Tokens.Max))
	r.Limits = []LimitCheck{{Name: "training examples (OpenAI's minimum)", Limit: OpenAIMinExamples,
		Value: int64(r.Splits[SplitTrain].Examples), Minimum: true}}
	for _, m := range OpenAIModelTokens {
		r.Limits = append(r.Limits, LimitCheck{Name: "tokens per example for " + m.Model + " (cl100k count)", Limit: m.Tokens,
			Value: longest, Advisory: true, Note: "longer examples are truncated in training with this model"})
	}
	for i := range r.Limits {
		l := &r.Limits[i]
		if l.Minimum {
			l.OK = l.Value >= l.Limit
		} else {
			l.OK = l.Value <= l.Limit
		}
	}
}
