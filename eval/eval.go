// Package eval asks held-out questions of built models (and of a baseline:
// the base model with the persona as its system prompt, the guide's
// prompt-engineering approach) and scores the replies with an LLM judge for
// persona consistency, accuracy against the reference answer, grounding and
// breaking character, next to simple measures (length, refusals, latency).
package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Question is one held-out question with its reference answer.
type Question struct {
	ID        string `json:"id"`
	Question  string `json:"question"`
	Reference string `json:"reference"`
	Source    string `json:"source,omitempty"`
}

// Target is a model to ask; System is sent as the system prompt (the
// baseline's persona), empty for a model that carries its own.
type Target struct {
	Label  string `json:"label"`
	Model  string `json:"model"`
	System string `json:"-"`
}

// Judgement scores one reply.
type Judgement struct {
	Persona        int    `json:"persona"`
	Accuracy       int    `json:"accuracy"`
	Grounding      int    `json:"grounding"`
	BrokeCharacter bool   `json:"broke_character"`
	Reason         string `json:"reason"`
}

// Answer is one model's reply to one question.
type Answer struct {
	Target    string    `json:"target"`
	Question  string    `json:"question_id"`
	Reply     string    `json:"reply"`
	Seconds   float64   `json:"seconds"`
	Chars     int       `json:"chars"`
	Refusal   bool      `json:"refusal"`
	Judgement Judgement `json:"judgement"`
	Error     string    `json:"error,omitempty"`
}

// Stat is a mean with its 95% confidence interval.
type Stat struct {
	Mean float64 `json:"mean"`
	CI95 float64 `json:"ci95"`
	N    int     `json:"n"`
}

// TargetSummary aggregates one target.
type TargetSummary struct {
	Target         string  `json:"target"`
	Model          string  `json:"model"`
	Persona        Stat    `json:"persona"`
	Accuracy       Stat    `json:"accuracy"`
	Grounding      Stat    `json:"grounding"`
	BrokeCharacter float64 `json:"broke_character_rate"`
	RefusalRate    float64 `json:"refusal_rate"`
	Latency        Stat    `json:"latency_seconds"`
	Length         Stat    `json:"reply_chars"`
	Errors         int     `json:"errors"`
}

// Report is the whole evaluation.
type Report struct {
	Judge     string          `json:"judge"`
	Questions []Question      `json:"questions"`
	Summaries []TargetSummary `json:"summaries"`
	Answers   []Answer        `json:"answers"`
}

// Config is eval's section. The CLI's flags and tuneline.yaml's `eval:`
// section fill this one struct; the server, parallelism and timeout are
// llm.Config's.
type Config struct {
	Questions int    `yaml:"questions" flag:"limit" help:"ask at most this many held-out questions (0: all of them)"`
	Judge     string `yaml:"judge" flag:"judge" help:"judge model (empty: the baseline, else the first model evaluated)"`
	MaxTokens int    `yaml:"max_tokens" flag:"max-tokens" help:"longest reply asked of a model, in tokens"`
	Seed      int    `yaml:"seed" flag:"seed" help:"seed of every request"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config { return Config{Questions: 10, MaxTokens: 256} }

// Options configure Run.
type Options struct {
	Backend   llm.Backend
	Judge     string
	Persona   *persona.Persona
	Parallel  int
	MaxTokens int
	Timeout   time.Duration
	Seed      int
	CacheDir  string
	// Progress, when set, is told the answers done (asked and judged, or
	// failed) and their total after each; calls may come from several
	// goroutines, one at a time.
	Progress func(done, total int)
}

// Plan is what Run runs for this section: the models to ask (each as
// itself), the baseline when one is named (the base model asked with
// persona p's system prompt), and the options, asking through backend b
// (its workers are the parallel requests; the timeout is srv's). The judge
// is Judge, else the baseline, else the first model. The eval command and
// the workspace's eval stage both call it, adding only the cache folder
// and progress.
func (c Config) Plan(srv llm.Config, models []string, baseline string, p *persona.Persona, b llm.Backend) ([]Target, Options) {
	var targets []Target
	for _, m := range models {
		targets = append(targets, Target{Label: m, Model: m})
	}
	if baseline != "" {
		system := ""
		if p != nil {
			system = strings.TrimRight(p.System, "\n")
		}
		targets = append(targets, Target{Label: "baseline " + baseline, Model: baseline, System: system})
	}
	judge := c.Judge
	if judge == "" {
		judge = baseline
	}
	if judge == "" && len(targets) > 0 {
		judge = targets[0].Model
	}
	return targets, Options{Backend: b, Judge: judge, Persona: p, Parallel: llm.Workers(b), Timeout: srv.Timeout, MaxTokens: c.MaxTokens, Seed: c.Seed}
}

// LoadQuestions reads user/assistant examples as questions: the first user
// turn is the question, the last assistant turn the reference answer.
func LoadQuestions(ctx context.Context, path string, limit int) ([]Question, error) {
	var qs []Question
	for rec, err := range datasets.ReadFile(ctx, path) {
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			continue
		}
		ex := rec.Example
		var q, ref string
		for _, m := range ex.Messages {
			if m.Role == datasets.RoleUser && q == "" {
				q = m.Content
			}
			if m.Role == datasets.RoleAssistant {
				ref = m.Content
			}
		}
		if q == "" || ref == "" {
			continue
		}
		ex.EnsureID()
		qs = append(qs, Question{ID: ex.ID, Question: q, Reference: ref, Source: ex.Meta.Source})
		if limit > 0 && len(qs) == limit {
			break
		}
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no user/assistant examples to use as questions", path)
	}
	return qs, nil
}

var refusalRe = regexp.MustCompile(`(?i)\b(i can(no|')t|i am (unable|not able)|i'm (unable|not able)|as an ai|i cannot help|i won't)\b`)

var judgeSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"persona":{"type":"integer","minimum":1,"maximum":5},"accuracy":{"type":"integer","minimum":1,"maximum":5},` +
	`"grounding":{"type":"integer","minimum":1,"maximum":5},"broke_character":{"type":"boolean"},` +
	`"reason":{"type":"string","maxLength":160}},"required":["persona","accuracy","grounding","broke_character","reason"]}`)

// Run asks every target every question and judges the replies.
func Run(ctx context.Context, qs []Question, targets []Target, opt Options) (*Report, error) {
	if opt.Parallel <= 0 {
		opt.Parallel = llm.Workers(opt.Backend)
	}
	if opt.MaxTokens <= 0 {
		opt.MaxTokens = DefaultConfig().MaxTokens
	}
	ctx, _ = llm.StartMeter(ctx, nil) // the progress line counts this run's tokens and rate
	for _, t := range append([]Target{{Model: opt.Judge}}, targets...) {
		if _, err := opt.Backend.Preflight(ctx, t.Model, false); err != nil {
			return nil, err
		}
	}
	cache := &llm.Cache{Dir: opt.CacheDir}
	rep := &Report{Judge: opt.Judge, Questions: qs}
	answers := make([]Answer, len(qs)*len(targets))
	if opt.Progress != nil {
		opt.Progress(0, len(answers)) // the share from the start, not from the first answer
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Parallel)
	for ti, t := range targets {
		for qi, q := range qs {
			g.Go(func() error {
				a := ask(gctx, &opt, cache, t, q)
				answers[ti*len(qs)+qi] = a
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress(done, len(answers))
					mu.Unlock()
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Answers = answers
	for ti, t := range targets {
		rep.Summaries = append(rep.Summaries, summarize(t, answers[ti*len(qs):(ti+1)*len(qs)]))
	}
	return rep, nil
}

func ask(ctx context.Context, opt *Options, cache *llm.Cache, t Target, q Question) Answer {
	a := Answer{Target: t.Label, Question: q.ID}
	key := llm.Key("eval-v1", t.Model, t.System, q.Question, q.Reference, opt.Judge, opt.Seed, opt.MaxTokens)
	if ok, _ := cache.Get(key, &a); ok {
		a.Target = t.Label
		return a
	}
	var msgs []llm.Message
	if t.System != "" {
		msgs = append(msgs, llm.Message{Role: "system", Content: t.System})
	}
	msgs = append(msgs, llm.Message{Role: "user", Content: q.Question})
	start := time.Now()
	rep, err := call(ctx, opt, llm.Request{Model: t.Model, Messages: msgs, Temperature: 0, Seed: opt.Seed, MaxTokens: opt.MaxTokens})
	a.Seconds = time.Since(start).Seconds()
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Reply = strings.TrimSpace(rep.Content)
	a.Chars = len([]rune(a.Reply))
	a.Refusal = refusalRe.MatchString(a.Reply)
	j, err := judge(ctx, opt, q, a.Reply)
	if err != nil {
		a.Error = "judge: " + err.Error()
		return a
	}
	a.Judgement = j
	cache.Put(key, &a)
	return a
}

// call sends one request, retrying network errors a few times.
func call(ctx context.Context, opt *Options, r llm.Request) (llm.Reply, error) {
	rep, _, err := llm.Send(ctx, opt.Backend, r, opt.Timeout, 0, 5, rand.Float64)
	return rep, err
}

func judge(ctx context.Context, opt *Options, q Question, reply string) (Judgement, error) {
	voice := ""
	if opt.Persona != nil {
		voice = opt.Persona.Voice()
	}
	msgs := []llm.Message{
		{Role: "system", Content: "You evaluate a chat model that must speak as a persona. Score 1 (poor) to 5 (excellent) and reply with JSON only."},
		{Role: "user", Content: fmt.Sprintf("%s\nQuestion: %s\nReference answer: %s\nModel's reply: %s\n\nScore persona (voice and traits kept), accuracy (agrees with the reference), grounding (claims supported by the reference, nothing invented), and say whether the reply broke character (for example by saying it is an AI model).", voice, q.Question, q.Reference, reply)},
	}
	for attempt := 0; attempt < 4; attempt++ {
		rep, err := call(ctx, opt, llm.Request{Model: opt.Judge, Messages: msgs, Schema: judgeSchema, Temperature: 0, Seed: opt.Seed + attempt, MaxTokens: 400})
		if err != nil {
			return Judgement{}, err
		}
		var j Judgement
		if jerr := json.Unmarshal([]byte(rep.Content), &j); jerr == nil && !rep.Cut && inRange(j.Persona) && inRange(j.Accuracy) && inRange(j.Grounding) {
			return j, nil
		}
	}
	return Judgement{}, fmt.Errorf("no valid judgement after 4 tries")
}

func inRange(v int) bool { return v >= 1 && v <= 5 }

func stat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	m := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	ci := 0.0
	if len(xs) > 1 {
		ci = 1.96 * math.Sqrt(ss/float64(len(xs)-1)) / math.Sqrt(float64(len(xs)))
	}
	return Stat{Mean: m, CI95: ci, N: len(xs)}
}

func summarize(t Target, as []Answer) TargetSummary {
	s := TargetSummary{Target: t.Label, Model: t.Model}
	var p, acc, gr, lat, ln []float64
	broke, refused, n := 0, 0, 0
	for _, a := range as {
		if a.Error != "" {
			s.Errors++
			continue
		}
		n++
		p = append(p, float64(a.Judgement.Persona))
		acc = append(acc, float64(a.Judgement.Accuracy))
		gr = append(gr, float64(a.Judgement.Grounding))
		lat = append(lat, a.Seconds)
		ln = append(ln, float64(a.Chars))
		if a.Judgement.BrokeCharacter {
			broke++
		}
		if a.Refusal {
			refused++
		}
	}
	s.Persona, s.Accuracy, s.Grounding, s.Latency, s.Length = stat(p), stat(acc), stat(gr), stat(lat), stat(ln)
	if n > 0 {
		s.BrokeCharacter = float64(broke) / float64(n)
		s.RefusalRate = float64(refused) / float64(n)
	}
	return s
}
