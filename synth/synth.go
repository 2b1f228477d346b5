// Package synth generates synthetic training examples from chunks with a
// local model, in a persona's voice: question/answer pairs and multi-turn
// conversations through JSON-schema structured output, re-asked when a
// reply is invalid, cached by content so that an interrupted run resumes,
// with bounded parallel requests and backoff. It also curates examples with
// an LLM judge.
package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/ordered"
	"github.com/tuneline/tuneline/internal/setting"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/tokens"
)

// Options configure Run.
type Options struct {
	Model   string
	Persona *persona.Persona
	Backend llm.Backend
	// PairsPerChunk fixes the number of Q&A pairs per chunk; 0 makes it
	// proportional to the chunk: one pair per TokensPerPair tokens, at
	// least one, at most MaxPairs.
	PairsPerChunk int
	TokensPerPair int
	MaxPairs      int
	// Conversations per chunk, of Turns turns each.
	Conversations int
	Turns         int
	// Preferences is the number of preference pairs (a question, the
	// persona's grounded answer and a worse one) per chunk.
	Preferences int
	Limits      Limits
	Parallel    int
	// Retries re-ask a model whose reply is cut, empty or invalid, with
	// the validation error; NetRetries retry network errors and overload.
	Retries    int
	NetRetries int
	// MaxFailed is the share of the tasks that may fail after their
	// retries with the run still a success (Summary.TooManyFailed).
	MaxFailed float64
	Timeout   time.Duration
	// Backoff is the first wait before a network retry (default 250 ms);
	// it doubles up to 20 s.
	Backoff     time.Duration
	Temperature float64
	Seed        int
	CacheDir    string
	Pull        bool
	// Progress is called after each task with the running summary.
	Progress func(s *Summary)
	// Clock times the run (time.Now when nil; tests pass their own).
	Clock func() time.Time
}

// Failure is a task given up on.
type Failure struct {
	Chunk  string `json:"chunk"`
	Task   string `json:"task"`
	Cause  string `json:"cause"`
	Detail string `json:"detail"`
}

// Summary reports a run.
type Summary struct {
	Model         string         `json:"model"`
	ContextLength int            `json:"context_length"`
	Chunks        int            `json:"chunks"`
	Tasks         int            `json:"tasks"`
	TasksDone     int            `json:"tasks_done"`
	Cached        int            `json:"tasks_cached"`
	Examples      int            `json:"examples"`
	Requests      int            `json:"requests"`
	Reasked       int            `json:"reasked"`
	Retried       int            `json:"retried_network"`
	Failures      map[string]int `json:"failures"`
	Failed        []Failure      `json:"failed"`
	TokensIn      int            `json:"tokens_in"`
	TokensOut     int            `json:"tokens_out"`
	Seconds       float64        `json:"seconds"`
	ExamplesPerS  float64        `json:"examples_per_second"`
	// TokensReceived and TokensOutPerS are the progress line's figures
	// (llm.TokensPerSecond): the tokens streamed, kept or not, over Seconds.
	TokensReceived int64   `json:"tokens_received"`
	TokensOutPerS  float64 `json:"tokens_out_per_second"`
	Interrupted    bool    `json:"interrupted"`
	// Deferred tasks wait for a batch engine's reply (see llm.Batch).
	Deferred int `json:"tasks_deferred,omitempty"`
	// Parallel says the level of requests in flight and why (measured
	// with parallel auto); Servers each server's state, when the backend
	// is a pool.
	Parallel string             `json:"parallel,omitempty"`
	Servers  []llm.ServerStatus `json:"servers,omitempty"`
}

// FailedTasks is the number of tasks given up on (Failed lists at most
// 200 of them).
func (s *Summary) FailedTasks() int {
	n := 0
	for _, v := range s.Failures {
		n += v
	}
	return n
}

// Causes words the failures by cause: "cut 2, timeout 1".
func (s *Summary) Causes() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Failures)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.Failures[k]))
	}
	return strings.Join(parts, ", ")
}

// String words one failed task for a list: "chunk 3f2a qa#0: cut: ...".
func (f Failure) String() string {
	s := fmt.Sprintf("chunk %s %s: %s", f.Chunk, f.Task, f.Cause)
	if f.Detail != "" {
		d := f.Detail
		if len(d) > 200 {
			d = strings.ToValidUTF8(d[:200], "") + "..."
		}
		s += ": " + d
	}
	return s
}

// TooManyFailed says whether more than maxFailed, a share of the tasks,
// failed: at or under it, a run keeps what the other tasks made.
func (s *Summary) TooManyFailed(maxFailed float64) bool {
	return float64(s.FailedTasks()) > maxFailed*float64(s.Tasks)+1e-9
}

// poolStatus is what a pool of servers reports.
type poolStatus interface {
	Status() []llm.ServerStatus
	StatusLine() string
}

type task struct {
	seq   int
	chunk *datasets.Chunk
	kind  string // "qa", "conversation" or "preference"
	n     int    // pairs or turns
	index int    // which conversation
}

type taskResult struct {
	examples []datasets.Example
	done     bool
}

// cached is what a cache entry holds.
type cached struct {
	Pairs     []QAPair   `json:"pairs,omitempty"`
	Turns     []Turn     `json:"turns,omitempty"`
	Prefs     []PrefPair `json:"preference_pairs,omitempty"`
	TokensIn  int        `json:"tokens_in"`
	TokensOut int        `json:"tokens_out"`
}

// Config is synth's section: what to generate per chunk and how. The CLI's
// flags and tuneline.yaml's `synth:` section fill this one struct; the
// server, model, parallelism and timeout are llm.Config's.
type Config struct {
	Pairs            int     `yaml:"pairs" flag:"pairs" help:"Q&A pairs per chunk (0: one per tokens_per_pair tokens of the chunk, at most max_pairs)"`
	TokensPerPair    int     `yaml:"tokens_per_pair" flag:"tokens-per-pair" help:"chunk tokens per Q&A pair when pairs is 0"`
	MaxPairs         int     `yaml:"max_pairs" flag:"max-pairs" help:"most Q&A pairs per chunk when pairs is 0"`
	Conversations    int     `yaml:"conversations" flag:"conversations" help:"multi-turn conversations per chunk"`
	Turns            int     `yaml:"turns" flag:"turns" help:"turns per conversation"`
	Preferences      int     `yaml:"preferences" flag:"preferences" help:"preference pairs per chunk (chosen: the persona's grounded answer; rejected: one out of character or ungrounded), for DPO"`
	MaxQuestionChars int     `yaml:"max_question_chars" flag:"max-question-chars" help:"longest question, in characters (the JSON schema caps it)"`
	MaxAnswerChars   int     `yaml:"max_answer_chars" flag:"max-answer-chars" help:"longest answer, in characters (the JSON schema caps it)"`
	Retries          int     `yaml:"retries" flag:"retries" help:"re-asks of a reply that is cut, empty or invalid"`
	MaxFailed        float64 `yaml:"max_failed" flag:"max-failed" help:"share of the tasks that may still fail after their retries with the rest kept, the failed ones listed and retried by the next run (above it, synth fails; 0: none may)"`
	Temperature      float64 `yaml:"temperature" flag:"temperature" help:"sampling temperature"`
	Seed             int     `yaml:"seed" flag:"seed" help:"seed of every request (the same seed and chunk give the same request)"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{TokensPerPair: 150, MaxPairs: 5, Turns: 3, MaxQuestionChars: 400, MaxAnswerChars: 1500, Retries: 3, MaxFailed: 0.05, Temperature: 0.7, Seed: 1}
}

// Apply sets the options c describes.
func (c Config) Apply(o *Options) {
	o.PairsPerChunk, o.TokensPerPair, o.MaxPairs = c.Pairs, c.TokensPerPair, c.MaxPairs
	o.Conversations, o.Turns, o.Preferences = c.Conversations, c.Turns, c.Preferences
	o.Limits = Limits{QuestionChars: c.MaxQuestionChars, AnswerChars: c.MaxAnswerChars}
	o.Retries, o.Temperature, o.Seed = c.Retries, c.Temperature, c.Seed
	o.MaxFailed = c.MaxFailed
	if c.Retries == 0 {
		o.Retries = -1 // asked for no re-asks
	}
}

// defaults fills what the caller left zero from DefaultConfig.
func (o *Options) defaults() {
	d := DefaultConfig()
	if o.TokensPerPair <= 0 {
		o.TokensPerPair = d.TokensPerPair
	}
	if o.MaxPairs <= 0 {
		o.MaxPairs = d.MaxPairs
	}
	if o.Turns <= 0 {
		o.Turns = d.Turns
	}
	if o.Limits.QuestionChars <= 0 {
		o.Limits.QuestionChars = d.MaxQuestionChars
	}
	if o.Limits.AnswerChars <= 0 {
		o.Limits.AnswerChars = d.MaxAnswerChars
	}
	if o.Parallel <= 0 {
		o.Parallel = llm.Workers(o.Backend)
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = d.Retries
	}
	if o.NetRetries <= 0 {
		o.NetRetries = 8
	}
}

// Run generates examples from the chunks file and writes them to out in
// chunk order. Every chunk is used. A task that still fails after its
// retries is reported and left out (a re-run tries it again; everything
// done before comes from the cache).
func Run(ctx context.Context, chunksPath string, opt Options, out io.Writer) (*Summary, error) {
	return RunFiles(ctx, []string{chunksPath}, opt, out)
}

// RunFiles is Run over several chunks files (the parts of a sharded
// ingest), read one after the other as if they were one.
func RunFiles(ctx context.Context, chunksPaths []string, opt Options, out io.Writer) (*Summary, error) {
	opt.defaults()
	ctx, meter := llm.StartMeter(ctx, opt.Clock) // the progress line's tokens and rate, and the summary's
	sum := &Summary{Model: opt.Model, Failures: map[string]int{}, Failed: []Failure{}}
	if opt.MaxFailed < 0 || opt.MaxFailed > 1 {
		return sum, &setting.Error{Section: "synth", Key: "max_failed", Flag: "max-failed", Value: fmt.Sprint(opt.MaxFailed), Problem: "a share of the tasks, from 0 to 1"}
	}
	info, err := opt.Backend.Preflight(ctx, opt.Model, opt.Pull)
	if err != nil {
		return sum, err
	}
	sum.ContextLength = info.ContextLength
	n := 0
	for _, p := range chunksPaths {
		c, err := datasets.CountLines(p)
		if err != nil {
			return sum, err
		}
		n += c
	}
	sum.Chunks = n
	// Every chunk is one Q&A task and its conversations: the total is known
	// before the first request, so the progress line's share and ETA are
	// true from the start.
	sum.Tasks = n * len(opt.tasksOf(&datasets.Chunk{}))
	if opt.Progress != nil {
		opt.Progress(sum) // the share and "ETA unknown" from the start, not from the first reply
	}
	cache := &llm.Cache{Dir: opt.CacheDir}
	var mu sync.Mutex // guards sum

	// Chunks -> tasks, in order; tasks run on opt.Parallel workers and their
	// examples are written in task order.
	tasks := func(yield func(*task, error) bool) {
		seq := 0
		for _, p := range chunksPaths {
			for at, err := range datasets.Chunks(p) {
				if err != nil {
					yield(nil, err)
					return
				}
				c := at.Chunk
				for _, t := range opt.tasksOf(&c) {
					t.seq = seq
					seq++
					if !yield(t, nil) {
						return
					}
				}
			}
		}
	}
	rngs := make([]*rand.Rand, opt.Parallel)
	counters := make([]*tokens.Counter, opt.Parallel) // a Counter is not safe for concurrent use
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), uint64(opt.Seed)))
		counters[w] = tokens.NewCounter()
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	err = ordered.Map(ctx, opt.Parallel, 0, tasks,
		func(ctx context.Context, w int, t *task) taskResult {
			exs, err := runTask(ctx, t, &opt, info, cache, counters[w], sum, &mu, rngs[w])
			if err != nil {
				return taskResult{}
			}
			return taskResult{examples: exs, done: true}
		},
		func(r taskResult) error {
			for _, ex := range r.examples {
				if err := enc.Encode(ex); err != nil {
					return err
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if r.done {
				sum.TasksDone++
				sum.Examples += len(r.examples)
			}
			sum.Seconds = meter.Elapsed().Seconds()
			if ps, ok := opt.Backend.(poolStatus); ok {
				sum.Parallel = ps.StatusLine()
			}
			if opt.Progress != nil {
				opt.Progress(sum)
			}
			return nil
		})
	if ps, ok := opt.Backend.(poolStatus); ok {
		sum.Parallel, sum.Servers = ps.StatusLine(), ps.Status()
	}
	elapsed := meter.Elapsed()
	sum.Seconds, sum.TokensReceived = elapsed.Seconds(), meter.Tokens()
	sum.TokensOutPerS = llm.TokensPerSecond(sum.TokensReceived, elapsed)
	if sum.Seconds > 0 {
		sum.ExamplesPerS = float64(sum.Examples) / sum.Seconds
	}
	if ctx.Err() != nil {
		sum.Interrupted = true
		return sum, ctx.Err()
	}
	return sum, err
}

func runTask(ctx context.Context, t *task, opt *Options, info llm.ModelInfo, cache *llm.Cache, tc *tokens.Counter, sum *Summary, mu *sync.Mutex, rng *rand.Rand) ([]datasets.Example, error) {
	lim := opt.Limits
	req, key := plan(t, opt, info, tc)
	msgs, seed := req.Messages, req.Seed
	var c cached
	if ok, err := cache.Get(key, &c); err == nil && ok {
		mu.Lock()
		sum.Cached++
		mu.Unlock()
		return examples(t, opt, &c), nil
	}
	fail := func(cause, detail string) error {
		mu.Lock()
		sum.Failures[cause]++
		if len(sum.Failed) < 200 {
			sum.Failed = append(sum.Failed, Failure{Chunk: t.chunk.ID, Task: fmt.Sprintf("%s#%d", t.kind, t.index), Cause: cause, Detail: detail})
		}
		mu.Unlock()
		return errors.New(cause)
	}
	for attempt := 0; ; {
		req.Messages, req.Seed = msgs, seed+attempt
		rep, n, err := llm.Send(ctx, opt.Backend, req, opt.Timeout, opt.Backoff, opt.NetRetries+1, rng.Float64)
		mu.Lock()
		sum.Requests += n
		sum.Retried += n - 1
		sum.TokensIn += rep.TokensIn
		sum.TokensOut += rep.TokensOut
		mu.Unlock()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, llm.ErrDeferred) {
			mu.Lock()
			sum.Deferred++
			mu.Unlock()
			return nil, err
		}
		if err != nil {
			cause := "server"
			if errors.Is(err, context.DeadlineExceeded) {
				cause = "timeout"
			}
			return nil, fail(cause, err.Error())
		}
		var verr error
		cause := "invalid"
		switch {
		case rep.Cut:
			verr, cause = fmt.Errorf("the reply was cut off at the token limit; keep strings shorter"), "cut"
		case strings.TrimSpace(rep.Content) == "":
			verr, cause = fmt.Errorf("the reply is empty"), "empty"
		case t.kind == "qa":
			c.Pairs, verr = validateQA(rep.Content, t.n, lim)
		case t.kind == "preference":
			c.Prefs, verr = validatePref(rep.Content, t.n)
		default:
			c.Turns, verr = validateConv(rep.Content, t.n)
		}
		if verr == nil {
			c.TokensIn, c.TokensOut = rep.TokensIn, rep.TokensOut
			if err := cache.Put(key, &c); err != nil {
				return nil, fail("cache", err.Error())
			}
			return examples(t, opt, &c), nil
		}
		attempt++
		if attempt > opt.Retries {
			return nil, fail(cause, verr.Error())
		}
		mu.Lock()
		sum.Reasked++
		mu.Unlock()
		// Re-ask with the validation error.
		msgs = append(msgs[:2:2], llm.Message{Role: "assistant", Content: truncate(rep.Content, 2000)},
			llm.Message{Role: "user", Content: "That reply was not usable: " + verr.Error() + ". Reply again with JSON that matches the schema exactly."})
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func examples(t *task, opt *Options, c *cached) []datasets.Example {
	ch := t.chunk
	meta := datasets.Meta{Source: ch.Source, DocID: ch.DocID, ChunkID: ch.ID, Title: ch.Title, Section: ch.Section,
		PageStart: int32(ch.PageStart), PageEnd: int32(ch.PageEnd), TimeStart: ch.TimeStart, TimeEnd: ch.TimeEnd, Speaker: ch.Speaker,
		Persona: opt.Persona.Name, Model: opt.Model, Kind: t.kind}
	sys := datasets.Message{Role: datasets.RoleSystem, Content: strings.TrimSpace(opt.Persona.System)}
	var out []datasets.Example
	switch t.kind {
	case "qa":
		for _, p := range c.Pairs {
			ex := datasets.Example{Messages: []datasets.Message{sys, {Role: datasets.RoleUser, Content: p.Question}, {Role: datasets.RoleAssistant, Content: p.Answer}}, Meta: meta}
			ex.Meta.QuestionType = p.Type
			ex.EnsureID()
			out = append(out, ex)
		}
	case "preference":
		for _, p := range c.Prefs {
			ex := datasets.Example{Messages: []datasets.Message{sys, {Role: datasets.RoleUser, Content: p.Question}, {Role: datasets.RoleAssistant, Content: p.Chosen}},
				Rejected: []datasets.Message{{Role: datasets.RoleAssistant, Content: p.Rejected}}, Meta: meta}
			ex.Meta.Extra = map[string]string{"flaw": p.Flaw}
			ex.EnsureID()
			out = append(out, ex)
		}
	default:
		msgs := []datasets.Message{sys}
		for _, tr := range c.Turns {
			msgs = append(msgs, datasets.Message{Role: datasets.RoleUser, Content: tr.User}, datasets.Message{Role: datasets.RoleAssistant, Content: tr.Assistant})
		}
		ex := datasets.Example{Messages: msgs, Meta: meta}
		ex.EnsureID()
		out = append(out, ex)
	}
	return out
}
