// Package chatgen writes a deterministic synthetic chat dataset (OpenAI
// "messages" JSONL, about 1 KB an example) with planted exact duplicates,
// near duplicates (a few words changed) and invalid rows (bad JSON, an
// unknown role, an empty assistant turn, a last turn from the user), so that
// validation, deduplication and export are all exercised by tests and
// benchmarks. It is a Go port of the shared benchmark generator; the plants
// are the same kinds at the same default rates.
package chatgen

import (
	"bufio"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
)

// Options set the rates of the planted rows (the defaults are 5 %, 5 %, 1 %)
// and the seed.
type Options struct {
	DupRate, NearDupRate, BadRate float64
	Seed                          uint64
}

// Stats count what was planted.
type Stats struct {
	Lines     int `json:"lines"`
	ExactDups int `json:"exact_dups"`
	NearDups  int `json:"near_dups"`
	Invalid   int `json:"invalid"`
}

var words = strings.Fields(`quantum entanglement particle wave function measurement observer relativity
spacetime curvature gravity mass energy momentum photon electron field
symmetry boson fermion spin state superposition decoherence experiment
theory principle uncertainty light speed frame inertial acceleration
the a of and to in is that it as for with was on be by this are from
explain why how what when does can would could should simple terms analogy`)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type example struct {
	Messages []message `json:"messages"`
}

type gen struct{ rng *rand.Rand }

func (g gen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g gen) sentence() string {
	n := g.between(6, 18)
	w := make([]string, n)
	for i := range w {
		w[i] = words[g.rng.IntN(len(words))]
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + string(".?!"[g.rng.IntN(3)])
}

func (g gen) text(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.sentence()
	}
	return strings.Join(parts, " ")
}

func (g gen) example() example {
	ex := example{Messages: []message{{"system", "You are a physics expert. " + g.sentence()}}}
	for range g.between(1, 3) {
		ex.Messages = append(ex.Messages, message{"user", g.text(g.between(1, 2))}, message{"assistant", g.text(g.between(2, 6))})
	}
	return ex
}

func (g gen) near(ex example) example {
	out := example{Messages: append([]message(nil), ex.Messages...)}
	last := &out.Messages[len(out.Messages)-1]
	w := strings.Fields(last.Content)
	for range max(1, len(w)/30) {
		w[g.rng.IntN(len(w))] = words[g.rng.IntN(len(words))]
	}
	last.Content = strings.Join(w, " ")
	return out
}

func (g gen) bad(ex example) []byte {
	switch g.rng.IntN(4) {
	case 0:
		b, _ := json.Marshal(ex)
		return b[:len(b)-7] // truncated JSON
	case 1:
		ex.Messages[1].Role = "human" // unknown role
	case 2:
		ex.Messages[len(ex.Messages)-1].Content = "   " // empty assistant turn
	default:
		ex.Messages = ex.Messages[:len(ex.Messages)-1] // ends on a user turn
	}
	b, _ := json.Marshal(ex)
	return b
}

// Write writes n lines to w.
func Write(w io.Writer, n int, opt Options) (Stats, error) {
	if opt == (Options{}) {
		opt = Options{DupRate: 0.05, NearDupRate: 0.05, BadRate: 0.01, Seed: 1}
	}
	g := gen{rand.New(rand.NewPCG(opt.Seed, 0x7475_6e65_6c69_6e65))}
	bw := bufio.NewWriter(w)
	var st Stats
	var kept []example
	for range n {
		var line []byte
		r := g.rng.Float64()
		switch {
		case len(kept) > 0 && r < opt.DupRate:
			line, _ = json.Marshal(kept[g.rng.IntN(len(kept))])
			st.ExactDups++
		case len(kept) > 0 && r < opt.DupRate+opt.NearDupRate:
			line, _ = json.Marshal(g.near(kept[g.rng.IntN(len(kept))]))
			st.NearDups++
		case r < opt.DupRate+opt.NearDupRate+opt.BadRate:
			line = g.bad(g.example())
			st.Invalid++
		default:
			ex := g.example()
			if len(kept) < 5000 {
				kept = append(kept, ex)
			} else if g.rng.Float64() < 0.01 {
				kept[g.rng.IntN(len(kept))] = ex
			}
			line, _ = json.Marshal(ex)
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return st, err
		}
		st.Lines++
	}
	return st, bw.Flush()
}
