package format

import (
	"math"
	"slices"
)

// Distribution summarises a list of numbers as the OpenAI cookbook's
// print_distribution does.
type Distribution struct {
	Min    int     `json:"min"`
	Max    int     `json:"max"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	P5     float64 `json:"p5"`
	P95    float64 `json:"p95"`
}

// Histogram counts non-negative integers exactly in constant memory for
// values below 65536 (larger ones, rare for token counts, are kept in a
// list), so that quantiles are exact without keeping one number an example.
type Histogram struct {
	small []uint32
	large []int32
	n     int
	sum   float64
	min   int32
	max   int32
}

// Add counts one value (negative values count as 0).
func (h *Histogram) Add(v int) {
	x := int32(max(v, 0))
	if h.n == 0 || x < h.min {
		h.min = x
	}
	if h.n == 0 || x > h.max {
		h.max = x
	}
	h.n++
	h.sum += float64(x)
	if x < 1<<16 {
		if int(x) >= len(h.small) {
			h.small = append(h.small, make([]uint32, max(int(x)+1, 2*len(h.small))-len(h.small))...)
		}
		h.small[x]++
		return
	}
	h.large = append(h.large, x)
}

// N is the number of values counted.
func (h *Histogram) N() int { return h.n }

// Range is the smallest and the largest value counted (0, 0 when none).
func (h *Histogram) Range() (lo, hi int) { return int(h.min), int(h.max) }

// Each calls fn with every distinct value counted and how many times, in
// increasing order.
func (h *Histogram) Each(fn func(value, count int)) {
	for v, c := range h.small {
		if c > 0 {
			fn(v, int(c))
		}
	}
	slices.Sort(h.large)
	for i := 0; i < len(h.large); {
		j := i
		for j < len(h.large) && h.large[j] == h.large[i] {
			j++
		}
		fn(int(h.large[i]), j-i)
		i = j
	}
}

// at returns the k-th smallest value (0-based).
func (h *Histogram) at(k int) int32 {
	for v, c := range h.small {
		if k < int(c) {
			return int32(v)
		}
		k -= int(c)
	}
	slices.Sort(h.large)
	return h.large[k]
}

// Distribution summarises the counted values.
func (h *Histogram) Distribution() Distribution {
	if h.n == 0 {
		return Distribution{}
	}
	q := func(f float64) float64 {
		pos := f * float64(h.n-1)
		lo := int(math.Floor(pos))
		a, b := h.at(lo), h.at(min(lo+1, h.n-1))
		return float64(a) + (pos-float64(lo))*float64(b-a)
	}
	return Distribution{Min: int(h.min), Max: int(h.max), Mean: h.sum / float64(h.n), Median: q(0.5), P5: q(0.05), P95: q(0.95)}
}

// Fine-tuning pricing rules from the OpenAI cookbook's data-prep check.
const (
	TargetEpochs      = 3
	MinTargetExamples = 100
	MaxTargetExamples = 25000
	MinDefaultEpochs  = 1
	MaxDefaultEpochs  = 25
)

// Epochs is the number of epochs OpenAI picks by default for n examples.
func Epochs(n int) int {
	if n <= 0 {
		return 0
	}
	e := TargetEpochs
	if n*TargetEpochs < MinTargetExamples {
		e = min(MaxDefaultEpochs, MinTargetExamples/n)
	} else if n*TargetEpochs > MaxTargetExamples {
		e = max(MinDefaultEpochs, MaxTargetExamples/n)
	}
	return e
}

// Summary is what validate reports.
type Summary struct {
	Files    []string `json:"files"`
	Examples int      `json:"examples"`
	Valid    int      `json:"valid"`
	Invalid  int      `json:"invalid"`
	// Formats counts the input shapes seen.
	Formats map[string]int `json:"formats"`
	// Errors and Warnings count examples per category.
	Errors   map[string]int `json:"errors"`
	Warnings map[string]int `json:"warnings"`

	MaxTokens          int          `json:"max_tokens"`
	MessagesPerExample Distribution `json:"messages_per_example"`
	TokensPerExample   Distribution `json:"tokens_per_example"`
	AssistantTokens    Distribution `json:"assistant_tokens_per_example"`
	OverMaxTokens      int          `json:"over_max_tokens"`
	// BillableTokens is the sum over examples of min(tokens, MaxTokens): what
	// one epoch of training is charged for.
	BillableTokens int64 `json:"billable_tokens"`
	Epochs         int   `json:"epochs"`
	ChargedTokens  int64 `json:"charged_tokens"`

	// Issues lists the first issues found (see IssuesOmitted).
	Issues        []Issue `json:"issues"`
	IssuesOmitted int     `json:"issues_omitted"`
}

// Tally accumulates a Summary over checked examples in constant memory.
type Tally struct {
	S         Summary
	MaxIssues int
	msgs      Histogram
	toks      Histogram
	asst      Histogram
}

// NewTally starts a summary for the given token limit.
func NewTally(maxTokens int) *Tally {
	return &Tally{MaxIssues: 1000, S: Summary{MaxTokens: maxTokens, Formats: map[string]int{},
		Errors: map[string]int{}, Warnings: map[string]int{}, Files: []string{}, Issues: []Issue{}}}
}

// Add counts one checked example. Statistics cover the examples that parsed
// (as the cookbook's do), valid or not.
func (t *Tally) Add(c *Checked) {
	s := &t.S
	s.Examples++
	if c.Valid {
		s.Valid++
	} else {
		s.Invalid++
	}
	if c.Record.Format != "" {
		s.Formats[c.Record.Format]++
	}
	seenE, seenW := map[string]bool{}, map[string]bool{}
	for _, is := range c.Issues {
		if is.Severity == SevError && !seenE[is.Category] {
			seenE[is.Category] = true
			s.Errors[is.Category]++
		} else if is.Severity == SevWarning && !seenW[is.Category] {
			seenW[is.Category] = true
			s.Warnings[is.Category]++
		}
		if len(s.Issues) < t.MaxIssues {
			s.Issues = append(s.Issues, is)
		} else {
			s.IssuesOmitted++
		}
	}
	if c.Record.Err != nil || len(c.Record.Example.Messages) == 0 {
		return
	}
	t.msgs.Add(len(c.Record.Example.Messages))
	t.toks.Add(c.Tokens)
	t.asst.Add(c.AssistantTokens)
	if s.MaxTokens > 0 && c.Tokens > s.MaxTokens {
		s.OverMaxTokens++
	}
	lim := c.Tokens
	if s.MaxTokens > 0 {
		lim = min(lim, s.MaxTokens)
	}
	s.BillableTokens += int64(lim)
}

// Finish computes the distributions and the cost estimate.
func (t *Tally) Finish() Summary {
	s := t.S
	s.MessagesPerExample = t.msgs.Distribution()
	s.TokensPerExample = t.toks.Distribution()
	s.AssistantTokens = t.asst.Distribution()
	s.Epochs = Epochs(t.toks.N())
	s.ChargedTokens = int64(s.Epochs) * s.BillableTokens
	return s
}
