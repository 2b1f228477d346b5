package synth

// Planning: a chunk's tasks, and each task's first request (prompt, JSON
// schema, reply budget, seed) and its cache key.

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/tokens"
)

func taskSeed(opt *Options, t *task) int {
	h := fnv.New32a()
	// The chunk's text, not its id: an unchanged chunk of an edited
	// document keeps its seed and its cache entries.
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%d", opt.Seed, t.chunk.Text, t.kind, t.index)
	return int(h.Sum32() & 0x7fffffff)
}

// passage fits the chunk text into the model's context next to the prompt
// and the reply.
func passage(c *datasets.Chunk, ctxLen, replyTokens int, tc *tokens.Counter) string {
	budget := ctxLen - replyTokens - 700 // instructions and persona
	if budget <= 0 || c.Tokens <= budget {
		return c.Text
	}
	words := strings.Fields(c.Text)
	var b strings.Builder
	n := 0
	for _, w := range words {
		wn := tc.Count(" " + w)
		if n+wn > budget {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		n += wn
	}
	return b.String()
}

// plan builds a task's first request and its cache key.
func plan(t *task, opt *Options, info llm.ModelInfo, tc *tokens.Counter) (llm.Request, string) {
	lim := opt.Limits
	var schema json.RawMessage
	var msgs []llm.Message
	var reply int
	seed := taskSeed(opt, t)
	// The reply budget assumes the worst case of one token per character
	// (plus the JSON around the strings and the indentation a grammar allows): a reply cut by the budget is
	// invalid, one that ends early costs nothing.
	switch t.kind {
	case "qa":
		schema = qaSchema(t.n, lim)
		reply = t.n*(lim.QuestionChars+lim.AnswerChars+300) + 100
	case "preference":
		schema = prefSchema(t.n, lim)
		reply = t.n*(lim.QuestionChars+2*lim.AnswerChars+300) + 100
	default:
		schema = convSchema(t.n, lim)
		reply = t.n*(lim.QuestionChars+lim.AnswerChars+200) + 100
	}
	reply = min(reply, info.ContextLength/2)
	// Every task of the chunk gets the same passage (cut for the largest
	// reply): their system messages are then the same bytes.
	text := passage(t.chunk, info.ContextLength, info.ContextLength/2, tc)
	switch t.kind {
	case "qa":
		msgs = qaPrompt(opt.Persona, text, t.n, int(t.chunk.Seq))
	case "preference":
		msgs = prefPrompt(opt.Persona, text, t.n, int(t.chunk.Seq))
	default:
		msgs = convPrompt(opt.Persona, text, t.n)
	}
	key := llm.Key(PromptVersion, opt.Model, opt.Persona.Hash(), t.kind, t.n, t.index, datasets.ContentID([]datasets.Message{{Role: "chunk", Content: t.chunk.Text}}),
		lim, opt.Temperature, seed, reply)
	return llm.Request{Model: opt.Model, Messages: msgs, Schema: schema, Temperature: opt.Temperature, Seed: seed, MaxTokens: reply}, key
}

// PlannedRequest is the first request of one task, for benchmarks that
// send the same requests without tuneline's runner.
type PlannedRequest struct {
	Request  llm.Request
	Examples int // examples a valid reply yields
}

// tasksOf is a chunk's tasks: its Q&A pairs (fixed, or one per
// TokensPerPair tokens up to MaxPairs) and its conversations.
func (o *Options) tasksOf(c *datasets.Chunk) []*task {
	pairs := o.PairsPerChunk
	if pairs <= 0 {
		pairs = min(max((c.Tokens+o.TokensPerPair-1)/o.TokensPerPair, 1), o.MaxPairs)
	}
	ts := []*task{{chunk: c, kind: "qa", n: pairs}}
	for k := range o.Conversations {
		ts = append(ts, &task{chunk: c, kind: "conversation", n: o.Turns, index: k})
	}
	if o.Preferences > 0 {
		ts = append(ts, &task{chunk: c, kind: "preference", n: o.Preferences})
	}
	return ts
}

// Plan returns the first request of every task Run would do for the chunks
// file (Options as for Run; info as Preflight returns it).
func Plan(chunksPath string, opt Options, info llm.ModelInfo) ([]PlannedRequest, error) {
	opt.defaults()
	tc := tokens.NewCounter()
	var out []PlannedRequest
	for at, err := range datasets.Chunks(chunksPath) {
		if err != nil {
			return nil, err
		}
		c := at.Chunk
		for _, t := range opt.tasksOf(&c) {
			r, _ := plan(t, &opt, info, tc)
			n := t.n // pairs
			if t.kind == "conversation" {
				n = 1
			}
			out = append(out, PlannedRequest{r, n})
		}
	}
	return out, nil
}
