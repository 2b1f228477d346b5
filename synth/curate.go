package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/ordered"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Criteria the judge scores, 1 (poor) to 5 (excellent).
var Criteria = []string{"accuracy", "grounding", "persona", "clarity"}

// JudgePromptVersion changes with the judge's prompt or schema.
const JudgePromptVersion = "judge-v1"

// PairJudgePromptVersion changes with the pair judge's prompt or schema.
const PairJudgePromptVersion = "pair-judge-v1"

// CurateConfig is curate's section. The CLI's flags and tuneline.yaml's
// `curate:` section fill this one struct; the judge's server, model,
// parallelism and timeout are llm.Config's.
type CurateConfig struct {
	MinScore float64 `yaml:"min_score" flag:"min-score" help:"keep examples whose judged overall score (1-5) is at least this (0 keeps all)"`
}

// DefaultCurateConfig holds the defaults of every field.
func DefaultCurateConfig() CurateConfig { return CurateConfig{} }

// CurateOptions configure Curate.
type CurateOptions struct {
	Model    string
	Backend  llm.Backend
	Persona  *persona.Persona // optional: persona adherence is judged against it
	Chunks   []string         // optional: the chunks files (the parts of a sharded ingest), for grounding
	MinScore float64          // keep examples whose overall score is at least this (0 keeps all)
	Parallel int
	Retries  int
	Timeout  time.Duration
	Backoff  time.Duration
	Seed     int
	CacheDir string
	Progress func(done int)
}

// Scores are one judgement.
type Scores struct {
	Accuracy  int    `json:"accuracy"`
	Grounding int    `json:"grounding"`
	Persona   int    `json:"persona"`
	Clarity   int    `json:"clarity"`
	Reason    string `json:"reason"`
}

// CurateSummary reports a curation run.
type CurateSummary struct {
	Examples int `json:"examples"`
	Scored   int `json:"scored"`
	// Pairs are the preference pairs judged: the judge is shown both
	// replies (in an order drawn per pair) and asked which is better;
	// a pair whose rejected reply it prefers is left out.
	Pairs          int                `json:"pairs_judged"`
	PairsDisagreed int                `json:"pairs_judge_prefers_rejected"`
	Kept           int                `json:"kept"`
	Dropped        int                `json:"dropped_below_min_score"`
	Invalid        int                `json:"invalid_input"`
	Failures       map[string]int     `json:"failures"`
	Cached         int                `json:"cached"`
	Requests       int                `json:"requests"`
	Histogram      map[string][6]int  `json:"histogram"` // criterion -> count per score 1..5
	Mean           map[string]float64 `json:"mean"`
	Seconds        float64            `json:"seconds"`
	// Deferred examples wait for a batch engine's reply (see llm.Batch).
	Deferred int `json:"deferred,omitempty"`
	sums     map[string]float64
}

var judgeSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"accuracy":{"type":"integer","minimum":1,"maximum":5},"grounding":{"type":"integer","minimum":1,"maximum":5},` +
	`"persona":{"type":"integer","minimum":1,"maximum":5},"clarity":{"type":"integer","minimum":1,"maximum":5},` +
	`"reason":{"type":"string","maxLength":200}},"required":["accuracy","grounding","persona","clarity","reason"]}`)

func validateScores(content string) (Scores, error) {
	var s Scores
	if err := decodeReply(content, &s); err != nil {
		return s, err
	}
	for i, v := range []int{s.Accuracy, s.Grounding, s.Persona, s.Clarity} {
		if v < 1 || v > 5 {
			return s, fmt.Errorf("%s must be 1 to 5, got %d", Criteria[i], v)
		}
	}
	return s, nil
}

func judgePrompt(ex *datasets.Example, source string, p *persona.Persona) []llm.Message {
	var conv strings.Builder
	for _, m := range ex.Messages {
		if m.Role == datasets.RoleSystem {
			continue
		}
		fmt.Fprintf(&conv, "%s: %s\n", strings.ToUpper(m.Role), m.Content)
	}
	sys := "You are a strict reviewer of training data for a chat model. Score the assistant's replies from 1 (poor) to 5 (excellent) and give a one-sentence reason. Reply with JSON only."
	var b strings.Builder
	if source != "" {
		fmt.Fprintf(&b, "Source passage the answers must be grounded in:\n\"\"\"\n%s\n\"\"\"\n\n", source)
	}
	if p != nil {
		fmt.Fprintf(&b, "The assistant must speak as this persona:\n%s\n", p.Voice())
	} else if s := ex.System(); s != "" {
		fmt.Fprintf(&b, "The assistant's system prompt:\n%s\n\n", s)
	}
	fmt.Fprintf(&b, "Conversation:\n%s\nScore: accuracy (facts are correct), grounding (every claim is supported by the source passage; 3 if there is no passage), persona (voice, traits and style of the persona are kept, never broken), clarity (clear and well formed).", conv.String())
	return []llm.Message{{Role: "system", Content: sys}, {Role: "user", Content: b.String()}}
}

// chunkIndex finds chunk texts by id, in one or several chunks files,
// without holding them in memory.
type chunkIndex struct {
	files []*os.File
	off   map[string]chunkAt
}

type chunkAt struct {
	file         int
	offset, size int64
}

func openChunkIndex(paths []string) (*chunkIndex, error) {
	idx := &chunkIndex{off: map[string]chunkAt{}}
	for i, path := range paths {
		for at, err := range datasets.Chunks(path) {
			if err != nil {
				idx.close()
				return nil, err
			}
			idx.off[at.ID] = chunkAt{i, at.Offset, at.Size}
		}
		f, err := os.Open(path)
		if err != nil {
			idx.close()
			return nil, err
		}
		idx.files = append(idx.files, f)
	}
	return idx, nil
}

func (c *chunkIndex) close() {
	for _, f := range c.files {
		f.Close()
	}
}

func (c *chunkIndex) text(id string) string {
	if c == nil {
		return ""
	}
	o, ok := c.off[id]
	if !ok {
		return ""
	}
	b := make([]byte, o.size)
	if _, err := c.files[o.file].ReadAt(b, o.offset); err != nil {
		return ""
	}
	var ch datasets.Chunk
	if json.Unmarshal(b, &ch) != nil || ch.ID != id {
		return "" // a compressed chunks file: offsets are of its decompressed text
	}
	return ch.Text
}

// Curate scores every example with the judge model, stores the scores in
// meta.scores (and their mean as "overall"), and writes the examples whose
// overall score reaches MinScore, in input order.
func Curate(ctx context.Context, examplesPath string, opt CurateOptions, out io.Writer) (*CurateSummary, error) {
	if opt.Parallel <= 0 {
		opt.Parallel = llm.Workers(opt.Backend)
	}
	if opt.Retries <= 0 {
		opt.Retries = 3
	}
	ctx, _ = llm.StartMeter(ctx, nil) // the progress line counts this run's tokens and rate
	start := time.Now()
	sum := &CurateSummary{Failures: map[string]int{}, Histogram: map[string][6]int{}, Mean: map[string]float64{}, sums: map[string]float64{}}
	if _, err := opt.Backend.Preflight(ctx, opt.Model, false); err != nil {
		return sum, err
	}
	var idx *chunkIndex
	if len(opt.Chunks) > 0 {
		var err error
		if idx, err = openChunkIndex(opt.Chunks); err != nil {
			return sum, fmt.Errorf("chunks: %w", err)
		}
		defer idx.close()
	}
	cache := &llm.Cache{Dir: opt.CacheDir}
	personaHash := ""
	if opt.Persona != nil {
		personaHash = opt.Persona.Hash()
	}
	var mu sync.Mutex
	examples := func(yield func(datasets.Example, error) bool) {
		for rec, err := range datasets.ReadFile(ctx, examplesPath) {
			if err != nil {
				yield(datasets.Example{}, err)
				return
			}
			mu.Lock()
			sum.Examples++
			if rec.Err != nil {
				sum.Invalid++
			}
			mu.Unlock()
			if rec.Err == nil && !yield(rec.Example, nil) {
				return
			}
		}
	}
	rngs := make([]*rand.Rand, opt.Parallel)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), 7))
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	done := 0
	err := ordered.Map(ctx, opt.Parallel, 0, examples,
		func(ctx context.Context, w int, in datasets.Example) *datasets.Example {
			rng := rngs[w]
			ex := in
			ex.EnsureID()
			src := idx.text(ex.Meta.ChunkID)
			if ex.IsPair() {
				return judgePairCached(ctx, &opt, &ex, src, personaHash, cache, sum, &mu, rng)
			}
			key := llm.Key(JudgePromptVersion, opt.Model, personaHash, ex.ID, src, opt.Seed)
			var s Scores
			ok, _ := cache.Get(key, &s)
			if ok {
				mu.Lock()
				sum.Cached++
				mu.Unlock()
			} else {
				var cause string
				var err error
				var reqs int
				s, cause, reqs, err = judge(ctx, &opt, &ex, src, rng)
				mu.Lock()
				sum.Requests += reqs
				mu.Unlock()
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					mu.Lock()
					if errors.Is(err, llm.ErrDeferred) {
						sum.Deferred++
						mu.Unlock()
						return nil
					}
					sum.Failures[cause]++
					mu.Unlock()
					return nil
				}
				cache.Put(key, &s)
			}
			if ex.Meta.Scores == nil {
				ex.Meta.Scores = map[string]float64{}
			}
			vals := []int{s.Accuracy, s.Grounding, s.Persona, s.Clarity}
			total := 0.0
			for i, c := range Criteria {
				ex.Meta.Scores[c] = float64(vals[i])
				total += float64(vals[i])
			}
			ex.Meta.Scores["overall"] = total / float64(len(Criteria))
			if ex.Meta.Extra == nil {
				ex.Meta.Extra = map[string]string{}
			}
			ex.Meta.Extra["judge_reason"] = s.Reason
			return &ex
		},
		func(ex *datasets.Example) error {
			done++
			if opt.Progress != nil {
				opt.Progress(done)
			}
			if ex == nil {
				return nil
			}
			if ex.IsPair() {
				mu.Lock()
				sum.Pairs++
				keep := ex.Meta.Scores["judge_prefers_chosen"] == 1
				if keep {
					sum.Kept++
				} else {
					sum.PairsDisagreed++
				}
				mu.Unlock()
				if keep {
					return enc.Encode(ex)
				}
				return nil
			}
			mu.Lock()
			sum.Scored++
			for _, c := range append(append([]string{}, Criteria...), "overall") {
				v := ex.Meta.Scores[c]
				sum.sums[c] += v
				if c != "overall" {
					h := sum.Histogram[c]
					h[int(v)]++
					sum.Histogram[c] = h
				}
			}
			keep := ex.Meta.Scores["overall"] >= opt.MinScore
			if keep {
				sum.Kept++
			} else {
				sum.Dropped++
			}
			mu.Unlock()
			if keep {
				if err := enc.Encode(ex); err != nil {
					return err
				}
			}
			return nil
		})
	for c, v := range sum.sums {
		if sum.Scored > 0 {
			sum.Mean[c] = v / float64(sum.Scored)
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, err
}

// judge asks for scores, re-asking invalid replies and retrying network
// errors.
func judge(ctx context.Context, opt *CurateOptions, ex *datasets.Example, src string, rng *rand.Rand) (Scores, string, int, error) {
	msgs := judgePrompt(ex, src, opt.Persona)
	reqs := 0
	for attempt := 0; ; {
		rep, n, err := llm.Send(ctx, opt.Backend, llm.Request{Model: opt.Model, Messages: msgs, Schema: judgeSchema, Temperature: 0, Seed: opt.Seed + attempt, MaxTokens: 400},
			opt.Timeout, opt.Backoff, 9, rng.Float64)
		reqs += n
		if ctx.Err() != nil {
			return Scores{}, "", reqs, ctx.Err()
		}
		if err != nil {
			return Scores{}, "server", reqs, err
		}
		s, verr := validateScores(rep.Content)
		if verr == nil && !rep.Cut {
			return s, "", reqs, nil
		}
		if rep.Cut {
			verr = fmt.Errorf("the reply was cut off; keep the reason short")
		}
		attempt++
		if attempt > opt.Retries {
			return Scores{}, "invalid", reqs, verr
		}
		msgs = append(msgs[:2:2], llm.Message{Role: "assistant", Content: truncate(rep.Content, 1000)}, llm.Message{Role: "user", Content: "That reply was not usable: " + verr.Error() + ". Reply again with JSON that matches the schema."})
	}
}

// pairVerdict is the pair judge's reply.
type pairVerdict struct {
	Better string `json:"better"`
	Reason string `json:"reason"`
}

var pairJudgeSchema = json.RawMessage(`{"type":"object","properties":{"better":{"type":"string","enum":["A","B"]},` +
	`"reason":{"type":"string","maxLength":200}},"required":["better","reason"]}`)

// pairJudgePrompt shows the conversation so far and the two replies, the
// chosen one first when chosenFirst.
func pairJudgePrompt(ex *datasets.Example, source string, p *persona.Persona, chosenFirst bool) []llm.Message {
	var b strings.Builder
	if source != "" {
		fmt.Fprintf(&b, "Source passage the reply must be grounded in:\n\"\"\"\n%s\n\"\"\"\n\n", source)
	}
	if p != nil {
		fmt.Fprintf(&b, "The assistant must speak as this persona:\n%s\n", p.Voice())
	} else if s := ex.System(); s != "" {
		fmt.Fprintf(&b, "The assistant's system prompt:\n%s\n\n", s)
	}
	b.WriteString("Conversation:\n")
	for _, m := range ex.Prompt() {
		if m.Role != datasets.RoleSystem {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToUpper(m.Role), m.Content)
		}
	}
	a, c := ex.Chosen()[0].Content, ex.Rejected[0].Content
	if !chosenFirst {
		a, c = c, a
	}
	fmt.Fprintf(&b, "\nReply A:\n%s\n\nReply B:\n%s\n\nWhich reply is better: grounded in the source passage, correct, and in the persona's voice? Answer A or B with a one-sentence reason.", a, c)
	sys := "You are a strict reviewer of preference data for a chat model: you compare two replies to the same conversation. Reply with JSON only."
	return []llm.Message{{Role: "system", Content: sys}, {Role: "user", Content: b.String()}}
}

// judgePairCached asks the judge which reply of a pair is better (from the
// cache when it was asked before) and records the verdict in meta.scores
// as judge_prefers_chosen (1 or 0). The order of the two replies is drawn
// from the pair's id, so that a judge that favours a position does not
// favour the chosen reply.
func judgePairCached(ctx context.Context, opt *CurateOptions, ex *datasets.Example, src, personaHash string, cache *llm.Cache, sum *CurateSummary, mu *sync.Mutex, rng *rand.Rand) *datasets.Example {
	chosenFirst := fnv32(ex.ID)&1 == 0
	key := llm.Key(PairJudgePromptVersion, opt.Model, personaHash, ex.ID, src, opt.Seed, chosenFirst)
	var v pairVerdict
	if ok, _ := cache.Get(key, &v); ok {
		mu.Lock()
		sum.Cached++
		mu.Unlock()
	} else {
		msgs := pairJudgePrompt(ex, src, opt.Persona, chosenFirst)
		for attempt := 0; ; attempt++ {
			rep, n, err := llm.Send(ctx, opt.Backend, llm.Request{Model: opt.Model, Messages: msgs, Schema: pairJudgeSchema, Temperature: 0, Seed: opt.Seed + attempt, MaxTokens: 500},
				opt.Timeout, opt.Backoff, 9, rng.Float64)
			mu.Lock()
			sum.Requests += n
			mu.Unlock()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				mu.Lock()
				if errors.Is(err, llm.ErrDeferred) {
					sum.Deferred++
				} else {
					sum.Failures["server"]++
				}
				mu.Unlock()
				return nil
			}
			verr := decodeReply(rep.Content, &v)
			if verr == nil && v.Better != "A" && v.Better != "B" {
				verr = fmt.Errorf("better must be A or B, got %q", v.Better)
			}
			if verr == nil && !rep.Cut {
				break
			}
			if attempt >= opt.Retries {
				mu.Lock()
				sum.Failures["invalid"]++
				mu.Unlock()
				return nil
			}
		}
		cache.Put(key, &v)
	}
	prefersChosen := (v.Better == "A") == chosenFirst
	if ex.Meta.Scores == nil {
		ex.Meta.Scores = map[string]float64{}
	}
	ex.Meta.Scores["judge_prefers_chosen"] = 0
	if prefersChosen {
		ex.Meta.Scores["judge_prefers_chosen"] = 1
	}
	if ex.Meta.Extra == nil {
		ex.Meta.Extra = map[string]string{}
	}
	ex.Meta.Extra["judge_reason"] = v.Reason
	return ex
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
