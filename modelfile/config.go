package modelfile

import "github.com/tuneline/tuneline/persona"

// Config is the create section: what goes into a model besides its base and
// persona. The CLI's flags and tuneline.yaml's `create:` section fill this
// one struct.
type Config struct {
	Examples      int    `yaml:"examples" flag:"examples" help:"few-shot MESSAGE examples from the dataset (best scored, one per source chunk)"`
	MessageTokens int    `yaml:"message_tokens" flag:"message-tokens" help:"token budget of the MESSAGE lines"`
	SmokeQuestion string `yaml:"smoke_question" flag:"smoke-question" help:"the question asked of each new model (empty: the persona's first example, else \"Who are you?\")"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config { return Config{Examples: 3, MessageTokens: 1024} }

// Question is the question asked of a new model: the configured one,
// else the persona's first example question, else "Who are you?".
func (c Config) Question(p *persona.Persona) string {
	if c.SmokeQuestion != "" {
		return c.SmokeQuestion
	}
	if p != nil && len(p.Examples) > 0 {
		return p.Examples[0].Question
	}
	return "Who are you?"
}
