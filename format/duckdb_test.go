package format

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
)

// DuckDB, an independent Parquet reader, reads the hf export back and every
// row equals the example that went in: messages, id and typed meta columns.
func TestHFExportReadByDuckDB(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.jsonl")
	// Examples with provenance, scores and extra metadata, plus the real
	// corpus files.
	a, _ := datasets.CreateAtomic(in)
	for i := range 40 {
		fmt.Fprintf(a, `{"id":"ex-%02d","messages":[{"role":"system","content":"You are a physicist. \"Quotes\", tabs\t and ünïcödé 😀"},{"role":"user","content":"Question %d about entropy and the arrow of time %d?"},{"role":"assistant","content":"Answer %d: entropy of a closed system does not decrease; number %d."}],"meta":{"source":"thermo.pdf","page_start":%d,"page_end":%d,"time_start":1.5,"persona":"prof","scores":{"grounding":0.%d,"persona":1},"lecture":"L%d"}}`+"\n", i, i*7919, i*104729, i, i*31, i+1, i+2, i%10, i)
	}
	// OpenAI's per-message name and weight (0: not trained on).
	fmt.Fprintln(a, `{"id":"ex-weighted","messages":[{"role":"user","content":"Hi","name":"sam"},{"role":"assistant","content":"Not this.","weight":0},{"role":"user","content":"Again?"},{"role":"assistant","content":"This.","weight":1}]}`)
	a.Commit()
	inputs := []string{in, corpora + "llama-factory/identity.json", corpora + "llama-factory/v1_sft_demo.jsonl", corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"}
	dir := t.TempDir()
	rep, err := Export(context.Background(), inputs, Options{Target: TargetHF, OutDir: dir, Split: 0.8, Seed: 1, NearDup: 0.8, Compression: "snappy"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]datasets.Example{}
	for _, exs := range readBack(t, dir, TargetHF) {
		for _, ex := range exs {
			want[ex.ID] = ex
		}
	}
	if len(want) != rep.Written {
		t.Fatalf("read back %d by id, wrote %d", len(want), rep.Written)
	}
	// The input, for comparing with what DuckDB sees.
	inputByID := map[string]datasets.Example{}
	for _, f := range inputs {
		for rec, err := range datasets.ReadFile(context.Background(), f) {
			if err != nil || rec.Err != nil {
				continue
			}
			ex := rec.Example
			ex.EnsureID()
			inputByID[ex.ID] = ex
		}
	}
	for split, sr := range rep.Splits {
		rows := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT id, messages, meta FROM read_parquet('%s/data/%s-*.parquet') ORDER BY id`, dir, split))
		if len(rows) != sr.Examples {
			t.Fatalf("%s: DuckDB reads %d rows, report says %d", split, len(rows), sr.Examples)
		}
		for _, row := range rows {
			id := row["id"].(string)
			in, ok := inputByID[id]
			if !ok {
				t.Fatalf("DuckDB row id %q is not an input example", id)
			}
			var msgs []datasets.Message
			for _, m := range row["messages"].([]any) {
				mm := m.(map[string]any)
				msg := datasets.Message{Role: mm["role"].(string), Content: mm["content"].(string)}
				if n, ok := mm["name"].(string); ok {
					msg.Name = n
				}
				if w, ok := mm["weight"].(float64); ok {
					wi := int32(w)
					msg.Weight = &wi
				}
				msgs = append(msgs, msg)
			}
			if !reflect.DeepEqual(msgs, in.Messages) {
				t.Errorf("%s: messages differ:\n duckdb %+v\n input  %+v", id, msgs, in.Messages)
			}
			meta := row["meta"].(map[string]any)
			if in.Meta.Source != "" {
				if meta["source"] != in.Meta.Source || meta["page_start"] != float64(in.Meta.PageStart) || meta["time_start"] != in.Meta.TimeStart || meta["persona"] != in.Meta.Persona {
					t.Errorf("%s: meta differs: duckdb %v, input %+v", id, meta, in.Meta)
				}
				scores := map[string]float64{}
				for _, s := range meta["scores"].([]any) {
					sm := s.(map[string]any)
					scores[sm["name"].(string)] = sm["value"].(float64)
				}
				if !reflect.DeepEqual(scores, in.Meta.Scores) {
					t.Errorf("%s: scores %v, input %v", id, scores, in.Meta.Scores)
				}
				extra := meta["extra"].([]any)
				if len(extra) != 1 || extra[0].(map[string]any)["value"] != in.Meta.Extra["lecture"] {
					t.Errorf("%s: extra %v, input %v", id, extra, in.Meta.Extra)
				}
			} else if meta["source"] != nil || meta["page_start"] != nil {
				t.Errorf("%s: unset meta should be NULL, got %v", id, meta)
			}
		}
	}
	// The schema DuckDB sees: messages is list<struct<role, content, name,
	// weight>> (name and weight NULL where the input had none).
	cols := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s/data/train-*.parquet'))`, dir))
	types := map[string]string{}
	for _, c := range cols {
		types[c["column_name"].(string)] = c["column_type"].(string)
	}
	// (DuckDB quotes some field names and not others, by version.)
	if strings.ReplaceAll(types["messages"], `"`, "") != "STRUCT(role VARCHAR, content VARCHAR, name VARCHAR, weight INTEGER)[]" {
		t.Errorf("messages column type %q", types["messages"])
	}
	// Compression and dictionary encoding as promised.
	meta := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT DISTINCT compression FROM parquet_metadata('%s/data/train-00000-of-00001.parquet')`, dir))
	if len(meta) != 1 || meta[0]["compression"] != "SNAPPY" {
		t.Errorf("compression %v, want SNAPPY", meta)
	}
}
