package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/llm"
)

func TestValidatePref(t *testing.T) {
	for _, tt := range []struct {
		reply string
		want  string // error substring, "" for valid
	}{
		{`{"pairs":[{"question":"q","chosen":"a","rejected":"b","flaw":"ungrounded"}]}`, ""},
		{`{"pairs":[{"question":" q ","chosen":"a","rejected":"a ","flaw":"ungrounded"}]}`, "must differ"},
		{`{"pairs":[{"question":"q","chosen":"a","rejected":"  ","flaw":"ungrounded"}]}`, "must not be empty"},
		{`{"pairs":[{"question":"q","chosen":"a","rejected":"b","flaw":"rude"}]}`, "flaw \"rude\""},
		{`{"pairs":[]}`, "expected 1 pairs, got 0"},
		{`{"pairs":[`, "not valid JSON"},
	} {
		_, err := validatePref(tt.reply, 1)
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.reply, err, tt.want)
		}
	}
}

// prefReply answers a preference request: the chosen reply says GOOD, the
// rejected one BAD, the flaws as asked.
func prefReply(r llm.Request) (llm.Reply, error) {
	if !strings.Contains(string(r.Schema), `"rejected"`) {
		return qaReply(r)
	}
	var s struct {
		Properties struct{ Pairs struct{ MinItems int } }
	}
	json.Unmarshal(r.Schema, &s)
	pairs := make([]PrefPair, s.Properties.Pairs.MinItems)
	for i := range pairs {
		pairs[i] = PrefPair{Question: fmt.Sprintf("q%d %d?", i, r.Seed), Chosen: "GOOD answer", Rejected: "BAD answer", Flaw: Flaws[i%2]}
	}
	b, _ := json.Marshal(map[string]any{"pairs": pairs})
	return llm.Reply{Content: string(b), TokensOut: 20}, nil
}

// judgeFor answers a pair judge by picking the reply that contains want.
func judgeFor(want string) func(llm.Request) (llm.Reply, error) {
	return func(r llm.Request) (llm.Reply, error) {
		p := r.Messages[1].Content
		a := p[strings.Index(p, "Reply A:"):strings.Index(p, "Reply B:")]
		better := "B"
		if strings.Contains(a, want) {
			better = "A"
		}
		return llm.Reply{Content: `{"better":"` + better + `","reason":"r"}`}, nil
	}
}

// Preference pairs come out of synth with the chosen reply in messages and
// the rejected one beside it, flaws rotated; curate keeps the pairs whose
// chosen reply the judge prefers, whichever position it was shown in, and
// leaves out the others, counted.
func TestPreferencesScripted(t *testing.T) {
	chunks := writeChunks(t, 4)
	b := &scripted{steps: []func(llm.Request) (llm.Reply, error){prefReply}}
	opt := Options{Model: "scripted", Persona: testPersona(t), Backend: b, PairsPerChunk: 1, Preferences: 2, Parallel: 2, Seed: 3, CacheDir: t.TempDir()}
	var out bytes.Buffer
	sum, err := Run(context.Background(), chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	exs := readExamples(t, out.Bytes())
	if sum.Tasks != 8 || sum.TasksDone != 8 || len(exs) != 4*1+4*2 {
		t.Fatalf("summary %+v, %d examples", sum, len(exs))
	}
	pairs, flaws := 0, map[string]int{}
	for _, ex := range exs {
		if ex.Meta.Kind != "preference" {
			continue
		}
		pairs++
		flaws[ex.Meta.Extra["flaw"]]++
		if !ex.IsPair() || len(ex.Messages) != 3 || ex.Messages[0].Role != "system" || ex.Chosen()[0].Content != "GOOD answer" || ex.Rejected[0].Content != "BAD answer" {
			t.Errorf("pair %+v", ex)
		}
	}
	if pairs != 8 || flaws["ungrounded"] != 4 || flaws["out_of_character"] != 4 {
		t.Errorf("%d pairs, flaws %v", pairs, flaws)
	}
	path := filepath.Join(t.TempDir(), "ex.jsonl")
	os.WriteFile(path, out.Bytes(), 0o644)
	for _, tt := range []struct {
		judge          string
		kept, disagree int
	}{{"GOOD", 8, 0}, {"BAD", 0, 8}} {
		j := &scripted{steps: []func(llm.Request) (llm.Reply, error){func(r llm.Request) (llm.Reply, error) {
			if strings.Contains(string(r.Schema), `"better"`) {
				return judgeFor(tt.judge)(r)
			}
			return llm.Reply{Content: `{"accuracy":4,"grounding":4,"persona":4,"clarity":4,"reason":"ok"}`}, nil
		}}}
		var cur bytes.Buffer
		cs, err := Curate(context.Background(), path, CurateOptions{Model: "judge", Backend: j, Parallel: 2, CacheDir: t.TempDir()}, &cur)
		if err != nil {
			t.Fatal(err)
		}
		if cs.Pairs != 8 || cs.PairsDisagreed != tt.disagree || cs.Kept != 4+tt.kept || cs.Scored != 4 {
			t.Errorf("judge picks %s: %+v", tt.judge, cs)
		}
		// Both positions were used: a judge that favours one cannot
		// favour the chosen reply.
		first := 0
		for _, r := range j.reqs {
			p := r.Messages[1].Content
			if strings.Contains(p, "Reply A:\nGOOD") {
				first++
			}
		}
		if first == 0 || first == 8 {
			t.Errorf("the chosen reply was shown first in %d of 8 pairs", first)
		}
		for _, ex := range readExamples(t, cur.Bytes()) {
			if ex.IsPair() && ex.Meta.Scores["judge_prefers_chosen"] != 1 {
				t.Errorf("kept a pair the judge did not prefer: %v", ex.Meta.Scores)
			}
		}
	}
}
