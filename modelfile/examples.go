package modelfile

import (
	"context"
	"sort"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// FewShot picks up to n examples from a dataset for MESSAGE lines: the best
// scored first (meta.scores.overall; unscored count as 0), at most one per
// source chunk and preferring new question types, within a token budget.
// It reads the file once and keeps only the best candidates.
func FewShot(ctx context.Context, path string, n, tokenBudget int) ([]Message, error) {
	if n <= 0 {
		return nil, nil
	}
	type cand struct {
		ex    datasets.Example
		score float64
		seq   int
	}
	var cands []cand
	keep := max(50, n*20)
	seq := 0
	for rec, err := range datasets.ReadFile(ctx, path) {
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			continue
		}
		t := rec.Example.Turns()
		if len(t) < 2 || t[0].Role != datasets.RoleUser || t[len(t)-1].Role != datasets.RoleAssistant {
			continue
		}
		cands = append(cands, cand{rec.Example, rec.Example.Meta.Scores["overall"], seq})
		seq++
		if len(cands) > 2*keep {
			sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
			cands = cands[:keep]
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].seq < cands[j].seq
	})
	tc := tokens.NewCounter()
	usedChunk, usedType := map[string]bool{}, map[string]bool{}
	var out []Message
	picked, spent := 0, 0
	for pass := 0; pass < 2 && picked < n; pass++ {
		for i := range cands {
			if picked >= n {
				break
			}
			ex := &cands[i].ex
			if ex.ID == "" {
				ex.EnsureID()
			}
			if usedChunk["id:"+ex.ID] {
				continue
			}
			src := ex.Meta.ChunkID
			if pass == 0 && ((src != "" && usedChunk[src]) || (ex.Meta.QuestionType != "" && usedType[ex.Meta.QuestionType])) {
				continue
			}
			cost := 0
			for _, m := range ex.Turns() {
				cost += tc.Count(m.Content) + 4
			}
			if tokenBudget > 0 && spent+cost > tokenBudget {
				continue
			}
			for _, m := range ex.Turns() {
				out = append(out, Message{Role: m.Role, Content: m.Content})
			}
			spent += cost
			picked++
			usedChunk["id:"+ex.ID] = true
			if src != "" {
				usedChunk[src] = true
			}
			usedType[ex.Meta.QuestionType] = true
		}
	}
	return out, nil
}
