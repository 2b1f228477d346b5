package format

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/tokens"
	"gopkg.in/yaml.v3"
)

// inputsByKey reads the valid examples of files, keyed by their content id
// (tool calls and rejected replies included).
func inputsByKey(t *testing.T, files ...string) map[string][]datasets.Example {
	t.Helper()
	m := map[string][]datasets.Example{}
	for _, f := range files {
		for rec, err := range datasets.ReadFile(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			c := Check(rec, tokens.NewCounter(), 0)
			if c.Valid {
				k := datasets.ContentID(rec.Example.KeyMessages())
				m[k] = append(m[k], rec.Example)
			}
		}
	}
	return m
}

// Tool-calling examples, in OpenAI's shape and in LLaMA-Factory's (the real
// glaive demo file), go out to every target: openai and hf hold them as
// they are and read back the same; sharegpt as function_call/observation
// turns with a tools column, read back the same; vertex as functionCall and
// functionResponse parts; alpaca refuses them, counted.
func TestExportToolCalls(t *testing.T) {
	tools := filepath.Join("testdata", "openai_tools.jsonl")
	glaive := corpora + "llama-factory/glaive_toolcall_en_demo.json"
	inputs := []string{tools, glaive}
	in := inputsByKey(t, inputs...)
	// 300 glaive examples, 3 valid OpenAI-shape ones; glaive's 5 exact
	// repeats are left out by dedup.
	if len(in) < 250 {
		t.Fatalf("only %d valid inputs", len(in))
	}
	for _, target := range Targets {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), inputs, Options{Target: target, OutDir: dir, Split: 0.8, Seed: 3, NearDup: 0.8})
			if err != nil && target != TargetAlpaca {
				t.Fatal(err)
			}
			if target == TargetAlpaca {
				if err != nil || rep.Dropped["alpaca:incompatible"] < 150 {
					t.Fatalf("alpaca: want the tool-calling examples refused and counted: %v %v", rep, err)
				}
				return
			}
			// The four invalid lines of the OpenAI file, each for its reason.
			for _, cat := range []string{ErrToolUndeclared, ErrToolUnanswered, ErrToolCall, ErrToolResult} {
				if rep.Dropped["invalid:"+cat] != 1 {
					t.Errorf("dropped %v: want one invalid:%s", rep.Dropped, cat)
				}
			}
			if target == TargetVertex {
				checkVertexTools(t, dir, rep)
				return
			}
			n, tooled := 0, 0
			for _, exs := range readBack(t, dir, target) {
				for _, ex := range exs {
					n++
					k := datasets.ContentID(ex.KeyMessages())
					cands, ok := in[k]
					if !ok {
						t.Fatalf("exported example is not one of the inputs: %+v", ex.Messages)
					}
					if ex.HasTools() {
						tooled++
					}
					// The same conversation may come with other tools
					// (dedup keeps the first); one input must match.
					match := false
					for _, want := range cands {
						got, _ := json.Marshal(ex.Messages)
						exp, _ := json.Marshal(want.Messages)
						// ShareGPT has no call ids: they are made anew.
						match = match || sameTools(ex.Tools, want.Tools) && (target == TargetShareGPT || string(got) == string(exp))
					}
					if !match {
						t.Errorf("no input has these messages and tools: %+v %s", ex.Messages, ex.Tools)
					}
				}
			}
			if n != rep.Written || tooled < 130 {
				t.Errorf("read back %d (%d with tools), wrote %d", n, tooled, rep.Written)
			}
			switch target {
			case TargetOpenAI, TargetHF:
				// Everything valid goes out: the parallel calls and the
				// weight-0 turn too.
				if rep.Dropped[target+":incompatible"] != 0 {
					t.Errorf("dropped %v", rep.Dropped)
				}
			case TargetShareGPT:
				// The weight-0 example and the parallel calls cannot be said.
				if rep.Dropped["sharegpt:incompatible"] != 2 {
					t.Errorf("dropped %v", rep.Dropped)
				}
			}
		})
	}
}

// sameTools compares two tools lists as JSON values.
func sameTools(a, b datasets.RawJSON) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	json.Unmarshal([]byte(a), &x)
	json.Unmarshal([]byte(b), &y)
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// checkVertexTools reads the Gemini lines: a model turn with functionCall
// parts (args an object), then a user turn of functionResponse parts naming
// the same function, and the declarations under tools.
func checkVertexTools(t *testing.T, dir string, rep *Report) {
	t.Helper()
	calls := 0
	for _, split := range []string{SplitTrain, SplitValidation} {
		b, err := os.ReadFile(filepath.Join(dir, split+".jsonl"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var l struct {
				Contents []struct {
					Role  string
					Parts []map[string]json.RawMessage
				}
				Tools []struct {
					FunctionDeclarations []struct{ Name string }
				}
			}
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatal(err)
			}
			for i, c := range l.Contents {
				want := "user"
				if i%2 == 1 {
					want = "model"
				}
				if c.Role != want {
					t.Fatalf("turn %d is %s, want %s: %s", i, c.Role, want, line)
				}
				for _, p := range c.Parts {
					if fc, ok := p["functionCall"]; ok {
						var f struct {
							Name string
							Args map[string]any
						}
						if json.Unmarshal(fc, &f) != nil || f.Name == "" || f.Args == nil || len(l.Tools) != 1 {
							t.Errorf("functionCall %s in %s", fc, line)
						}
						var next struct{ Name string }
						if i+1 >= len(l.Contents) || json.Unmarshal(l.Contents[i+1].Parts[0]["functionResponse"], &next) != nil || next.Name != f.Name {
							t.Errorf("call %s has no functionResponse after it: %s", f.Name, line)
						}
						calls++
					}
				}
			}
		}
	}
	if calls < 150 {
		t.Errorf("%d function calls written; report %+v", calls, rep.Dropped)
	}
}

// Preference pairs, read from OpenAI's DPO shape and LLaMA-Factory's
// ranking demo (real), export as OpenAI DPO lines, TRL columns, ShareGPT
// and Alpaca ranking records, and read back as the same pairs; Vertex
// refuses them. Bad pairs are refused for their reason.
func TestExportPairs(t *testing.T) {
	dpo := filepath.Join("testdata", "openai_dpo.jsonl")
	inputs := []string{dpo, corpora + "llama-factory/dpo_en_demo.json"}
	in := inputsByKey(t, inputs...)
	for _, target := range Targets {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), inputs, Options{Target: target, OutDir: dir, Split: 0.9, Seed: 3, NearDup: 0.8})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != KindPreference {
				t.Fatalf("kind %q", rep.Kind)
			}
			if rep.Dropped["invalid:"+ErrPairSame] != 1 || rep.Dropped["invalid:"+ErrPair] != 1 {
				t.Errorf("dropped %v: want the equal pair and the two-rejected pair refused", rep.Dropped)
			}
			if target == TargetVertex {
				if rep.Written != 0 || rep.Dropped["vertex:incompatible"] < 290 {
					t.Errorf("vertex: wrote %d, dropped %v", rep.Written, rep.Dropped)
				}
				return
			}
			n := 0
			for _, exs := range readBack(t, dir, target) {
				for _, ex := range exs {
					n++
					if !ex.IsPair() {
						t.Fatalf("read back a chat example from a preference export: %+v", ex)
					}
					if _, ok := in[datasets.ContentID(ex.KeyMessages())]; !ok {
						t.Fatalf("exported pair is not one of the inputs: %+v / %+v", ex.Messages, ex.Rejected)
					}
				}
			}
			if n != rep.Written || n < 290 {
				t.Errorf("read back %d, wrote %d", n, rep.Written)
			}
		})
	}
}

// An OpenAI DPO file exported to hf gives TRL's prompt/chosen/rejected
// columns as lists of messages, which DuckDB reads.
func TestHFPairsReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	rep, err := Export(context.Background(), []string{filepath.Join("testdata", "openai_dpo.jsonl")}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 3 {
		t.Fatalf("wrote %d, dropped %v", rep.Written, rep.Dropped)
	}
	cols := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s/data/train-*.parquet'))`, dir))
	types := map[string]string{}
	for _, c := range cols {
		types[c["column_name"].(string)] = strings.ReplaceAll(c["column_type"].(string), `"`, "")
	}
	for _, col := range []string{"prompt", "chosen", "rejected"} {
		if types[col] != "STRUCT(role VARCHAR, content VARCHAR, name VARCHAR, weight INTEGER)[]" {
			t.Errorf("%s column type %q (all: %v)", col, types[col], types)
		}
	}
	rows := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT len(prompt) AS n, prompt[len(prompt)].content AS q, chosen[1].role AS cr, chosen[1].content AS c, rejected[1].content AS r FROM read_parquet('%s/data/train-*.parquet') ORDER BY q`, dir))
	if len(rows) != 3 {
		t.Fatalf("DuckDB reads %d rows", len(rows))
	}
	want := []struct {
		n    int
		q, r string
	}{
		{3 + 1, "Counting states, please.", "lol idk, disorder or something"},
		{1, "Hello, can you tell me how cold San Francisco is today?", "It is not particularly cold in San Francisco today."},
		{2, "Why is the sky blue?", "Because it reflects the ocean."},
	}
	for i, w := range want {
		r := rows[i]
		if fmt.Sprint(r["n"]) != fmt.Sprint(w.n) || r["q"] != w.q || r["r"] != w.r || r["cr"] != "assistant" || r["c"] == "" {
			t.Errorf("row %d: %v, want %+v", i, r, w)
		}
	}
}

// The hf export of tool calls: messages carry tool_calls and tool_call_id
// columns, tools is JSON text, and DuckDB reads the calls.
func TestHFToolsReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	if _, err := Export(context.Background(), []string{filepath.Join("testdata", "openai_tools.jsonl")}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	rows := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT m.tool_calls[1].function.name AS f, m.tool_calls[1].function.arguments AS a, len(m.tool_calls) AS n, json_extract_string(tools, '$[0].function.name') AS t
		FROM (SELECT unnest(messages) AS m, tools FROM read_parquet('%s/data/train-*.parquet')) WHERE m.tool_calls IS NOT NULL ORDER BY a`, dir))
	got := fmt.Sprint(rows)
	for _, w := range []string{`a:{"city": "Oslo"}`, `a:{"city":"Paris"}`, "n:2", `a:{"people":2,"time":"20:00"} f:book_table n:1 t:book_table`} {
		if !strings.Contains(got, w) {
			t.Errorf("DuckDB rows %s lack %s", got, w)
		}
	}
}

// Whatever a record holds, checking and encoding it never panics, and a
// valid example written as an openai line (chat, tools or DPO) reads back
// as the same example.
func FuzzCheckEncode(f *testing.F) {
	for _, file := range []string{"openai_tools.jsonl", "openai_dpo.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(`{"prompt":"q","chosen":"a","rejected":"b"}`))
	tc := tokens.NewCounter()
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, _, rerr := datasets.ParseRecord(data)
		if rerr != nil {
			return
		}
		c := Check(datasets.Record{Example: ex}, tc, 0)
		for _, target := range []string{TargetOpenAI, TargetShareGPT, TargetAlpaca, TargetVertex} {
			Encode(&ex, target, ex.IsPair())
		}
		hfFits(&ex, datasets.LayoutTools)
		if !c.Valid {
			return
		}
		line, why := Encode(&ex, TargetOpenAI, ex.IsPair())
		if why != "" {
			t.Fatalf("valid example refused by openai: %s", why)
		}
		back, _, rerr := datasets.ParseRecord(line)
		if rerr != nil {
			t.Fatalf("%s does not read back: %v", line, rerr)
		}
		if datasets.ContentID(back.KeyMessages()) != datasets.ContentID(ex.KeyMessages()) || !sameTools(back.Tools, ex.Tools) {
			t.Fatalf("%s reads back as another example", line)
		}
	})
}

// The card's features are what the Parquet files hold, as DuckDB reads
// them, in each layout: the datasets library casts what it reads to the
// card's features and fails when they differ. num_bytes is the Arrow size:
// more than the text it holds, less than twice the text plus offsets.
func TestCardFeaturesMatchParquet(t *testing.T) {
	for name, in := range map[string]string{
		"chat":        corpora + "llama-factory/v1_sft_demo.jsonl",
		"tools":       filepath.Join("testdata", "openai_tools.jsonl"),
		"pairs":       filepath.Join("testdata", "openai_dpo.jsonl"),
		"pairs-tools": filepath.Join("testdata", "openai_dpo_tools.jsonl"),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			front := strings.SplitN(string(b), "---\n", 3)[1]
			var card struct {
				DatasetInfo struct {
					Features []feature `yaml:"features"`
					Splits   []struct {
						Name        string `yaml:"name"`
						NumBytes    int64  `yaml:"num_bytes"`
						NumExamples int    `yaml:"num_examples"`
					} `yaml:"splits"`
				} `yaml:"dataset_info"`
			}
			if err := yaml.Unmarshal([]byte(front), &card); err != nil {
				t.Fatalf("card front matter: %v\n%s", err, front)
			}
			cols := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s/data/train-*.parquet'))`, dir))
			if len(cols) != len(card.DatasetInfo.Features) {
				t.Fatalf("%d columns, card lists %d features", len(cols), len(card.DatasetInfo.Features))
			}
			for i, c := range cols {
				f := card.DatasetInfo.Features[i]
				if got, want := f.duckType(), strings.ReplaceAll(c["column_type"].(string), `"`, ""); f.Name != c["column_name"] || got != want {
					t.Errorf("column %d: card says %s %s, DuckDB reads %s %s", i, f.Name, got, c["column_name"], want)
				}
			}
			var text int64
			for rec, err := range datasets.ReadFile(context.Background(), in) {
				if err == nil && rec.Err == nil {
					for _, m := range append(rec.Example.Messages, rec.Example.Rejected...) {
						text += int64(len(m.Content))
					}
				}
			}
			sp := card.DatasetInfo.Splits
			if len(sp) != 1 || sp[0].NumExamples != rep.Written || sp[0].NumBytes <= text/2 || sp[0].NumBytes > 2*text+int64(rep.Written)*1024 {
				t.Errorf("splits %+v for %d examples of %d text bytes", sp, rep.Written, text)
			}
		})
	}
}

// feature is one entry of a card's features list.
type feature struct {
	Name     string    `yaml:"name"`
	Dtype    string    `yaml:"dtype"`
	Sequence string    `yaml:"sequence"`
	List     []feature `yaml:"list"`
	Struct   []feature `yaml:"struct"`
}

// duckType is the DuckDB type of a feature.
func (f feature) duckType() string {
	prim := map[string]string{"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "float64": "DOUBLE", "float32": "FLOAT", "bool": "BOOLEAN"}
	fields := func(fs []feature) string {
		var parts []string
		for _, x := range fs {
			parts = append(parts, x.Name+" "+x.duckType())
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	switch {
	case f.List != nil:
		return fields(f.List) + "[]"
	case f.Struct != nil:
		return fields(f.Struct)
	case f.Sequence != "":
		return prim[f.Sequence] + "[]"
	}
	return prim[f.Dtype]
}

// The kind and layout come from the start of each input; a pair or a tool
// call further on starts the export again with the right ones, and nothing
// is lost.
func TestExportRelayout(t *testing.T) {
	defer func(n int64) { probeBytes = n }(probeBytes)
	probeBytes = 64
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"question %d about the sky"},{"role":"assistant","content":"answer %d: scattering"}]}`+"\n", i, i*7)
	}
	tools, _ := os.ReadFile(filepath.Join("testdata", "openai_tools.jsonl"))
	b.Write(tools)
	os.WriteFile(in, []byte(b.String()), 0o644)
	rep, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: filepath.Join(dir, "hf"), Split: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 23 || rep.Dropped["hf:incompatible"] != 0 {
		t.Errorf("wrote %d, dropped %v", rep.Written, rep.Dropped)
	}
	n := 0
	for _, exs := range readBack(t, filepath.Join(dir, "hf"), TargetHF) {
		for _, ex := range exs {
			if ex.HasTools() {
				n++
			}
		}
	}
	if n != 3 {
		t.Errorf("%d examples with tools read back, want 3", n)
	}
	// A pair at the end makes the auto export a preference one.
	dpo, _ := os.ReadFile(filepath.Join("testdata", "openai_dpo.jsonl"))
	os.WriteFile(in, []byte(b.String()+string(dpo)), 0o644)
	rep, err = Export(context.Background(), []string{in}, Options{Target: TargetOpenAI, OutDir: filepath.Join(dir, "openai"), Split: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != KindPreference || rep.Written != 3 {
		t.Errorf("kind %s, wrote %d, dropped %v", rep.Kind, rep.Written, rep.Dropped)
	}
}

// Preference pairs with tools go to hf whole (they were left out): the
// pair columns hold OpenAI-shape messages (a chosen reply may be a call; a
// prompt may hold calls and results) and a tools column, JSON text that
// TRL's DPOTrainer parses as its SFTTrainer does (trlTools), null on a
// pair without tools. The rows read back as the pairs written, the card's
// features match the Parquet schema (TestCardFeaturesMatchParquet), and a
// pair file without tools keeps the plain pair columns.
func TestHFPairsWithTools(t *testing.T) {
	in := filepath.Join("testdata", "openai_dpo_tools.jsonl")
	dir := t.TempDir()
	rep, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != KindPreference || rep.Written != 3 {
		t.Fatalf("kind %s, wrote %d, dropped %v %v", rep.Kind, rep.Written, rep.Dropped, rep.Drops)
	}
	want := inputsByKey(t, in)
	got := readBack(t, dir, TargetHF)["train"]
	if len(got) != 3 {
		t.Fatalf("read back %d pairs", len(got))
	}
	calls := 0
	for _, ex := range got {
		w, ok := want[datasets.ContentID(ex.KeyMessages())]
		if !ok {
			t.Fatalf("pair read back is not one of the inputs: %+v / %+v", ex.Messages, ex.Rejected)
		}
		var col *string // the tools column as the datasets library hands it on
		if s := string(ex.Tools); s != "" {
			col = &s
		}
		tools, err := trlTools(col)
		if err != nil {
			t.Errorf("TRL's json.loads of tools %q: %v", ex.Tools, err)
		}
		if (tools == nil) != (w[0].Tools == "") {
			t.Errorf("tools %q read back as %v, the input's %q", ex.Tools, tools, w[0].Tools)
		}
		for _, m := range ex.Messages {
			calls += len(m.ToolCalls)
		}
	}
	if calls != 3 {
		t.Errorf("%d tool calls read back, want 3 (a chosen call, two in a prompt)", calls)
	}
	col := hfToolsColumn(t, dir)
	nulls := 0
	for _, v := range col {
		if v == nil {
			nulls++
		}
	}
	if nulls != 1 {
		t.Errorf("%d rows with null tools, want the one pair without", nulls)
	}
	card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if !strings.Contains(string(card), "Preference data with tool calls") || !strings.Contains(string(card), "- name: tool_calls") {
		t.Errorf("the card does not describe pairs with tool calls:\n%s", card)
	}

	// Pairs without tools keep TRL's plain columns.
	plain := t.TempDir()
	if _, err := Export(context.Background(), []string{corpora + "llama-factory/dpo_en_demo.json"}, Options{Target: TargetHF, OutDir: plain, Split: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	if card, _ := os.ReadFile(filepath.Join(plain, "README.md")); strings.Contains(string(card), "tool_calls") {
		t.Errorf("a pair export without tools has tool columns")
	}
}

// DuckDB reads the pair columns with tool calls and the tools column of an
// hf export of pairs with tools.
func TestHFPairsWithToolsReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	if _, err := Export(context.Background(), []string{filepath.Join("testdata", "openai_dpo_tools.jsonl")}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	rows := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT prompt[len(prompt)].content AS q, chosen[1].tool_calls[1].function.arguments AS a, len(prompt[2].tool_calls) AS n,
		json_extract_string(tools, '$[0].function.name') AS t FROM read_parquet('%s/data/train-*.parquet') ORDER BY q`, dir))
	got := fmt.Sprint(rows)
	for _, w := range []string{`a:{"city":"Oslo"}`, `q:21 degrees`, `n:2`, `t:get_weather`, `q:Say hello. t:<nil>`} {
		if !strings.Contains(got, w) {
			t.Errorf("DuckDB rows %s lack %s", got, w)
		}
	}
}
