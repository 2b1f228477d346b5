package format

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/chatgen"
)

// readBack loads every example of an exported directory.
func readBack(t *testing.T, dir, target string) map[string][]datasets.Example {
	t.Helper()
	out := map[string][]datasets.Example{}
	if target == TargetHF {
		files, _ := filepath.Glob(filepath.Join(dir, "data", "*.parquet"))
		for _, f := range files {
			split := strings.SplitN(filepath.Base(f), "-", 2)[0]
			for ex, err := range datasets.ReadParquet(context.Background(), f) {
				if err != nil {
					t.Fatal(err)
				}
				out[split] = append(out[split], ex)
			}
		}
		return out
	}
	for _, split := range []string{SplitTrain, SplitValidation} {
		f := filepath.Join(dir, split+".jsonl")
		if _, err := os.Stat(f); err != nil {
			continue
		}
		for rec, err := range datasets.ReadFile(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Err != nil {
				t.Fatalf("%s: exported record does not read back: %v", rec.Pos, rec.Err)
			}
			out[split] = append(out[split], rec.Example)
		}
	}
	return out
}

func key(msgs []datasets.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Role + "\x00" + m.Content + "\x01")
	}
	return b.String()
}

// Every target round-trips: what is written reads back, through tuneline's
// own readers, as the same conversations that went in.
func TestExportRoundTrip(t *testing.T) {
	inputs := []string{corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl", corpora + "llama-factory/identity.json",
		corpora + "llama-factory/v1_sft_demo.jsonl", corpora + "vertex-gemini/patient_1_glucose_examples.jsonl",
		corpora + "llama-factory/dpo_en_demo.json"}
	// Valid input conversations.
	valid := map[string]bool{}
	for _, f := range inputs {
		for rec, err := range datasets.ReadFile(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Err == nil {
				valid[key(rec.Example.Messages)] = true
			}
		}
	}
	for _, target := range Targets {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), inputs, Options{Target: target, Kind: KindChat, OutDir: dir, Split: 0.8, Seed: 7, NearDup: 0.8, MaxTokens: 4096})
			if err != nil {
				t.Fatal(err)
			}
			pairs := 0
			for _, d := range rep.Drops {
				if strings.Contains(d.Detail, "is a preference pair") {
					pairs++
				}
			}
			if pairs != 300 {
				t.Errorf("dropped %v: the 300 DPO pairs of a chat export must be reported, found %d", rep.Dropped, pairs)
			}
			got := readBack(t, dir, target)
			n := 0
			for split, exs := range got {
				if exs == nil || rep.Splits[split].Examples != len(exs) {
					t.Errorf("%s: %d examples read back, report says %d", split, len(exs), rep.Splits[split].Examples)
				}
				for _, ex := range exs {
					n++
					if !valid[key(ex.Messages)] {
						t.Errorf("%s: exported example is not one of the inputs: %.200q", split, key(ex.Messages))
					}
				}
			}
			if n != rep.Written || n == 0 {
				t.Errorf("read back %d, report says written %d", n, rep.Written)
			}
			dropped := 0
			for _, v := range rep.Dropped {
				dropped += v
			}
			if rep.Read != rep.Written+dropped {
				t.Errorf("read %d != written %d + dropped %d: something was lost silently", rep.Read, rep.Written, dropped)
			}
			switch target {
			case TargetOpenAI:
				// the toy file's system+assistant example is valid for OpenAI
				if rep.Dropped[TargetOpenAI+":incompatible"] != 300 {
					t.Errorf("openai dropped %v", rep.Dropped)
				}
			case TargetVertex, TargetShareGPT, TargetAlpaca:
				if rep.Dropped[target+":incompatible"] != 301 {
					t.Errorf("%s: want the one system+assistant example refused, dropped %v", target, rep.Dropped)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "export-report.json")); err != nil {
				t.Error(err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp-*"))
			top, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
			if len(leftovers)+len(top) > 0 {
				t.Errorf("temporary files left: %v %v", leftovers, top)
			}
		})
	}
}

// Same seed, same split, whatever the input order; another seed, another split.
func TestSplitDeterministic(t *testing.T) {
	in := corpora + "llama-factory/v1_sft_demo.jsonl"
	split := func(seed uint64, files ...string) map[string]string {
		dir := t.TempDir()
		if _, err := Export(context.Background(), files, Options{Target: TargetOpenAI, OutDir: dir, Split: 0.7, Seed: seed, NearDup: 0.8}); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for s, exs := range readBack(t, dir, TargetOpenAI) {
			for _, ex := range exs {
				m[key(ex.Messages)] = s
			}
		}
		return m
	}
	// Reverse the file to change the order.
	b, _ := os.ReadFile(in)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	rev := filepath.Join(t.TempDir(), "rev.jsonl")
	os.WriteFile(rev, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	a, b2, c := split(1, in), split(1, rev), split(2, in)
	same, diff := 0, 0
	for k, s := range a {
		if b2[k] != "" && b2[k] != s {
			t.Fatalf("seed 1: split of an example changed with input order")
		}
		if c[k] == s {
			same++
		} else {
			diff++
		}
	}
	if diff == 0 {
		t.Errorf("seed 2 gave the same split as seed 1")
	}
	n := 0
	for _, s := range a {
		if s == SplitTrain {
			n++
		}
	}
	if f := float64(n) / float64(len(a)); f < 0.6 || f > 0.8 {
		t.Errorf("train share %.2f, want about 0.7", f)
	}
}

// The generator's planted exact duplicates, near duplicates and invalid rows
// are all found.
func TestPlantedDuplicates(t *testing.T) {
	out := filepath.Join(t.TempDir(), "gen.jsonl")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	planted, err := chatgen.Write(f, 5000, chatgen.Options{DupRate: 0.05, NearDupRate: 0.05, BadRate: 0.01, Seed: 3})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Export(context.Background(), []string{out}, Options{Target: TargetHF, OutDir: t.TempDir(), Split: 0.9, NearDup: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	invalid := 0
	for k, v := range rep.Dropped {
		if strings.HasPrefix(k, "invalid:") {
			invalid += v
		}
	}
	t.Logf("planted %+v; dropped %v", planted, rep.Dropped)
	if invalid != planted.Invalid {
		t.Errorf("invalid rows found %d, planted %d", invalid, planted.Invalid)
	}
	// A near duplicate whose changed word happens to be the same word (or
	// the same word in another case) is an exact duplicate after
	// normalisation, so only the sum is fixed; exact ones are at least those
	// planted.
	exact, near := rep.Dropped["exact_duplicate"], rep.Dropped["near_duplicate"]
	if exact < planted.ExactDups || exact+near != planted.ExactDups+planted.NearDups {
		t.Errorf("found %d exact + %d near duplicates, planted %d + %d", exact, near, planted.ExactDups, planted.NearDups)
	}
}

// An export of the tiny random-weight model's examples says so in
// export-report.json and at the head of the hf card (its tags too); one of a
// real model's says nothing of the kind.
func TestExportRandomModel(t *testing.T) {
	in := corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"
	for _, random := range []bool{false, true} {
		dir := t.TempDir()
		rep, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: dir, Split: 1, RandomModel: random})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "export-report.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.RandomModel != random || strings.Contains(string(b), `"random_model": true`) != random {
			t.Errorf("random %v: report says %v:\n%s", random, rep.RandomModel, b)
		}
		card, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(string(card), "---\n", 3)
		body := strings.SplitN(parts[2], "\n## ", 2)[0] // the title and what the data is
		if got := strings.Contains(body, "random-model output") && strings.Contains(parts[1], "- random-model-output\n"); got != random {
			t.Errorf("random %v: card warns %v:\n%s", random, got, card)
		}
	}
}

// An export folder that holds one of the export's inputs is refused before
// anything is written: re-exporting export/train.jsonl into export/ deleted
// and overwrote it (issue 29, case 9). A link to the folder is seen through.
func TestExportRefusesOutputHoldingInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "export")
	in := corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"
	opt := Options{Target: TargetOpenAI, Kind: KindChat, OutDir: out, Split: 1, Seed: 7, MaxTokens: 4096}
	if _, err := Export(context.Background(), []string{in}, opt); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(out, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "via-link")
	os.Symlink("export", link)
	for _, tt := range []struct{ out, in string }{
		{out, filepath.Join(out, "train.jsonl")},
		{link, filepath.Join(out, "train.jsonl")},
		{out, filepath.Join(link, "train.jsonl")},
	} {
		o := opt
		o.OutDir = tt.out
		_, err := Export(context.Background(), []string{tt.in}, o)
		if err == nil || !strings.Contains(err.Error(), "holds the input") {
			t.Errorf("--out %s with input %s: %v, want it refused", tt.out, tt.in, err)
		}
		if after, _ := os.ReadFile(filepath.Join(out, "train.jsonl")); string(after) != string(before) {
			t.Fatalf("--out %s with input %s: the input changed", tt.out, tt.in)
		}
	}
	// A folder beside it whose name only starts the same is not inside.
	o := opt
	o.OutDir = out + "2"
	if _, err := Export(context.Background(), []string{filepath.Join(out, "train.jsonl")}, o); err != nil {
		t.Errorf("export to %s: %v", o.OutDir, err)
	}
}
