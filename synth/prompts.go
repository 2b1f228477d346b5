package synth

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// PromptVersion changes whenever prompts or schemas change, so that cached
// replies of older prompts are not reused.
const PromptVersion = "synth-v1"

// QuestionTypes are asked for in turn.
var QuestionTypes = []string{"factual", "conceptual", "comparative", "application", "beginner"}

// Limits bound reply strings (models stop mid-string at the token limit
// otherwise, and a cut reply is invalid).
type Limits struct {
	QuestionChars int
	AnswerChars   int
}

// QAPair is one generated question and answer.
type QAPair struct {
	Type     string `json:"type"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Turn is one user/assistant exchange of a conversation.
type Turn struct {
	User      string `json:"user"`
	Assistant string `json:"assistant"`
}

func qaSchema(n int, lim Limits) json.RawMessage {
	s := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"pairs": map[string]any{
				"type": "array", "minItems": n, "maxItems": n,
				"items": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"type":     map[string]any{"type": "string", "enum": QuestionTypes},
						"question": map[string]any{"type": "string", "minLength": 1, "maxLength": lim.QuestionChars},
						"answer":   map[string]any{"type": "string", "minLength": 1, "maxLength": lim.AnswerChars},
					},
					"required": []string{"type", "question", "answer"},
				},
			},
		},
		"required": []string{"pairs"},
	}
	b, _ := json.Marshal(s)
	return b
}

func convSchema(turns int, lim Limits) json.RawMessage {
	s := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"turns": map[string]any{
				"type": "array", "minItems": turns, "maxItems": turns,
				"items": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"user":      map[string]any{"type": "string", "minLength": 1, "maxLength": lim.QuestionChars},
						"assistant": map[string]any{"type": "string", "minLength": 1, "maxLength": lim.AnswerChars},
					},
					"required": []string{"user", "assistant"},
				},
			},
		},
		"required": []string{"turns"},
	}
	b, _ := json.Marshal(s)
	return b
}

func qaPrompt(p *persona.Persona, passage string, n int, firstType int) []llm.Message {
	var types []string
	for i := range n {
		types = append(types, QuestionTypes[(firstType+i)%len(QuestionTypes)])
	}
	sys := "You write training data for a model that speaks as the persona below. You write questions a learner would ask about a passage, and the persona's answers. Answers use only facts stated in the passage, in the persona's voice. Reply with JSON only.\n\n" + p.Voice()
	user := fmt.Sprintf("Passage:\n\"\"\"\n%s\n\"\"\"\n\nWrite %d question/answer pairs about this passage, with these question types in order: %s. "+
		"Factual asks for a stated fact; conceptual asks why or how; comparative contrasts two things; application applies the idea to a situation; beginner is what a newcomer would ask. "+
		"Each answer is grounded in the passage and written as %s would say it.", passage, n, strings.Join(types, ", "), p.Name)
	return []llm.Message{{Role: "system", Content: sys}, {Role: "user", Content: user}}
}

func convPrompt(p *persona.Persona, passage string, turns int) []llm.Message {
	sys := "You write training data for a model that speaks as the persona below: realistic multi-turn conversations between a learner and the persona about a passage. The persona's replies use only facts from the passage, in its voice. Reply with JSON only.\n\n" + p.Voice()
	user := fmt.Sprintf("Passage:\n\"\"\"\n%s\n\"\"\"\n\nWrite a conversation of %d turns: the learner asks about the passage, then asks follow-up questions that build on the previous answers; %s answers each.", passage, turns, p.Name)
	return []llm.Message{{Role: "system", Content: sys}, {Role: "user", Content: user}}
}

// decodeReply decodes a model's JSON reply into v, saying what is wrong
// with it in words the model is re-asked with.
func decodeReply(content string, v any) error {
	if strings.TrimSpace(content) == "" {
		return fmt.Errorf("the reply is empty")
	}
	if err := json.Unmarshal([]byte(content), v); err != nil {
		return fmt.Errorf("the reply is not valid JSON: %v", err)
	}
	return nil
}

// validateQA checks a reply against what was asked.
func validateQA(content string, n int, lim Limits) ([]QAPair, error) {
	var v struct {
		Pairs []QAPair `json:"pairs"`
	}
	if err := decodeReply(content, &v); err != nil {
		return nil, err
	}
	if len(v.Pairs) != n {
		return nil, fmt.Errorf("expected %d pairs, got %d", n, len(v.Pairs))
	}
	for i, p := range v.Pairs {
		p.Question, p.Answer = strings.TrimSpace(p.Question), strings.TrimSpace(p.Answer)
		if p.Question == "" || p.Answer == "" {
			return nil, fmt.Errorf("pairs[%d]: question and answer must not be empty", i)
		}
		if !validType(p.Type) {
			return nil, fmt.Errorf("pairs[%d]: type %q is not one of %v", i, p.Type, QuestionTypes)
		}
		v.Pairs[i] = p
	}
	return v.Pairs, nil
}

func validType(t string) bool {
	for _, q := range QuestionTypes {
		if q == t {
			return true
		}
	}
	return false
}

func validateConv(content string, turns int) ([]Turn, error) {
	var v struct {
		Turns []Turn `json:"turns"`
	}
	if err := decodeReply(content, &v); err != nil {
		return nil, err
	}
	if len(v.Turns) != turns {
		return nil, fmt.Errorf("expected %d turns, got %d", turns, len(v.Turns))
	}
	for i, t := range v.Turns {
		t.User, t.Assistant = strings.TrimSpace(t.User), strings.TrimSpace(t.Assistant)
		if t.User == "" || t.Assistant == "" {
			return nil, fmt.Errorf("turns[%d]: user and assistant must not be empty", i)
		}
		v.Turns[i] = t
	}
	return v.Turns, nil
}
