package synth

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// PromptVersion changes whenever prompts or schemas change, so that cached
// replies of older prompts are not reused.
// synth-v2: the persona and the passage come first, in one system message
// shared byte for byte by every task of a chunk (servers reuse its
// prompt cache); the task follows in the user message.
const PromptVersion = "synth-v2"

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

// PrefPair is one generated preference pair: a question, the persona's
// grounded answer, and a worse one with its flaw.
type PrefPair struct {
	Question string `json:"question"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
	Flaw     string `json:"flaw"`
}

// Flaws are what makes a rejected answer worse, asked for in turn.
var Flaws = []string{"out_of_character", "ungrounded"}

// Turn is one user/assistant exchange of a conversation.
type Turn struct {
	User      string `json:"user"`
	Assistant string `json:"assistant"`
}

// listSchema is the schema of {key: [n objects of fields]}, the fields
// required in the order given.
func listSchema(key string, n int, fields [][2]any) json.RawMessage {
	props := map[string]any{}
	var required []string
	for _, f := range fields {
		props[f[0].(string)] = f[1]
		required = append(required, f[0].(string))
	}
	s := map[string]any{
		"type": "object",
		"properties": map[string]any{
			key: map[string]any{
				"type": "array", "minItems": n, "maxItems": n,
				"items": map[string]any{"type": "object", "properties": props, "required": required},
			},
		},
		"required": []string{key},
	}
	b, _ := json.Marshal(s)
	return b
}

// textField is a non-empty string of at most n characters.
func textField(n int) map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": n}
}

func qaSchema(n int, lim Limits) json.RawMessage {
	return listSchema("pairs", n, [][2]any{{"type", map[string]any{"type": "string", "enum": QuestionTypes}},
		{"question", textField(lim.QuestionChars)}, {"answer", textField(lim.AnswerChars)}})
}

func convSchema(turns int, lim Limits) json.RawMessage {
	return listSchema("turns", turns, [][2]any{{"user", textField(lim.QuestionChars)}, {"assistant", textField(lim.AnswerChars)}})
}

func prefSchema(n int, lim Limits) json.RawMessage {
	return listSchema("pairs", n, [][2]any{{"question", textField(lim.QuestionChars)}, {"chosen", textField(lim.AnswerChars)},
		{"rejected", textField(lim.AnswerChars)}, {"flaw", map[string]any{"type": "string", "enum": Flaws}}})
}

// sharedSystem is the system message of every task of one chunk: the
// same bytes for its Q&A, conversations and preference pairs, so that a
// server's prompt cache (Ollama's, vLLM's prefix caching) holds the
// persona and the passage once and evaluates only each task's request.
func sharedSystem(p *persona.Persona, passage string) string {
	return "You write training data for a model that speaks as the persona below: questions a learner would ask about a passage, conversations about it, and the persona's answers. " +
		"The persona's answers use only facts stated in the passage, in the persona's voice. Reply with JSON only.\n\n" +
		p.Voice() + "\n\nPassage:\n\"\"\"\n" + passage + "\n\"\"\""
}

func qaPrompt(p *persona.Persona, passage string, n int, firstType int) []llm.Message {
	var types []string
	for i := range n {
		types = append(types, QuestionTypes[(firstType+i)%len(QuestionTypes)])
	}
	user := fmt.Sprintf("Write %d question/answer pairs about the passage, with these question types in order: %s. "+
		"Factual asks for a stated fact; conceptual asks why or how; comparative contrasts two things; application applies the idea to a situation; beginner is what a newcomer would ask. "+
		"Each answer is grounded in the passage and written as %s would say it.", n, strings.Join(types, ", "), p.Name)
	return []llm.Message{{Role: "system", Content: sharedSystem(p, passage)}, {Role: "user", Content: user}}
}

func convPrompt(p *persona.Persona, passage string, turns int) []llm.Message {
	user := fmt.Sprintf("Write a realistic conversation of %d turns between a learner and %s about the passage: the learner asks about it, then asks follow-up questions that build on the previous answers; %s answers each.", turns, p.Name, p.Name)
	return []llm.Message{{Role: "system", Content: sharedSystem(p, passage)}, {Role: "user", Content: user}}
}

func prefPrompt(p *persona.Persona, passage string, n int, firstFlaw int) []llm.Message {
	var flaws []string
	for i := range n {
		flaws = append(flaws, Flaws[(firstFlaw+i)%len(Flaws)])
	}
	user := fmt.Sprintf("Write %d preference pairs about the passage, for teaching the model which answer to prefer. Each has a question a learner would ask; "+
		"\"chosen\", the answer %s would give: grounded in the passage, in the persona's voice; and \"rejected\", a worse answer to the same question with one flaw, in this order: %s. "+
		"out_of_character: the facts are right but the voice is a generic assistant's, nothing like %s; ungrounded: the persona's voice, but it states things the passage does not support. "+
		"Set \"flaw\" to the rejected answer's flaw.", n, p.Name, strings.Join(flaws, ", "), p.Name)
	return []llm.Message{{Role: "system", Content: sharedSystem(p, passage)}, {Role: "user", Content: user}}
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

// validatePref checks a preference reply against what was asked.
func validatePref(content string, n int) ([]PrefPair, error) {
	var v struct {
		Pairs []PrefPair `json:"pairs"`
	}
	if err := decodeReply(content, &v); err != nil {
		return nil, err
	}
	if len(v.Pairs) != n {
		return nil, fmt.Errorf("expected %d pairs, got %d", n, len(v.Pairs))
	}
	for i, p := range v.Pairs {
		p.Question, p.Chosen, p.Rejected = strings.TrimSpace(p.Question), strings.TrimSpace(p.Chosen), strings.TrimSpace(p.Rejected)
		switch {
		case p.Question == "" || p.Chosen == "" || p.Rejected == "":
			return nil, fmt.Errorf("pairs[%d]: question, chosen and rejected must not be empty", i)
		case p.Chosen == p.Rejected:
			return nil, fmt.Errorf("pairs[%d]: chosen and rejected must differ", i)
		case !slices.Contains(Flaws, p.Flaw):
			return nil, fmt.Errorf("pairs[%d]: flaw %q is not one of %v", i, p.Flaw, Flaws)
		}
		v.Pairs[i] = p
	}
	return v.Pairs, nil
}
