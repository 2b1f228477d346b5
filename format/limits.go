package format

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
