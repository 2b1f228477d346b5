package format

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// The checks the Python trainers make when they load a row, ported
// because they cannot run here; each names the file and commit read.

// trlTools is what TRL's SFTTrainer does with a row's tools
// (trl/trainer/sft_trainer.py, tokenize_fn in _prepare_dataset, read at
// commit 00313f2; the same lines at f2cd577):
//
//	tools = example.get("tools")
//	tools = json.loads(tools) if isinstance(tools, str) else tools
//
// A null is passed on as None (no tools); any string, the empty one
// included, goes through json.loads.
func trlTools(v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	var out any
	if err := json.Unmarshal([]byte(*v), &out); err != nil {
		return nil, errors.New("json.decoder.JSONDecodeError: " + err.Error())
	}
	return out, nil
}

// hfToolsColumn reads the tools column of an hf export's Parquet files as
// the datasets library hands it on: a string, or None for a null.
func hfToolsColumn(t *testing.T, dir string) []*string {
	t.Helper()
	type row struct {
		Tools *string `parquet:"tools,optional"`
	}
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no Parquet files")
	}
	var out []*string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewGenericReader[row](fh)
		buf := make([]row, 64)
		for {
			n, err := r.Read(buf)
			for _, x := range buf[:n] {
				out = append(out, x.Tools)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		fh.Close()
	}
	return out
}

// The glaive demo plus the OpenAI cookbook sample, exported to hf: rows
// without tools carry null in the tools column (not ""), so that TRL's
// tokenize_fn passes None to the chat template; every other row's tools
// are JSON text that json.loads reads as a list.
func TestHFToolsNullOnPlainRows(t *testing.T) {
	inputs := []string{corpora + "llama-factory/glaive_toolcall_en_demo.json", corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"}
	dir := t.TempDir()
	rep, err := Export(context.Background(), inputs, Options{Target: TargetHF, OutDir: dir, Split: 1, Seed: 1, NearDup: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	col := hfToolsColumn(t, dir)
	if len(col) != rep.Written {
		t.Fatalf("%d rows read, %d written", len(col), rep.Written)
	}
	nulls, lists := 0, 0
	for i, v := range col {
		tools, err := trlTools(v)
		if err != nil {
			t.Fatalf("row %d: TRL's tokenize_fn fails on tools %q: %v", i, *v, err)
		}
		switch tools := tools.(type) {
		case nil:
			nulls++
		case []any:
			if len(tools) == 0 {
				t.Errorf("row %d: an empty tools list (null says no tools)", i)
			}
			lists++
		default:
			t.Errorf("row %d: tools %T, want a list", i, tools)
		}
	}
	t.Logf("%d rows: %d without tools (null), %d with", len(col), nulls, lists)
	if nulls < 50 || lists < 100 {
		t.Errorf("want both kinds of rows: %d null, %d lists", nulls, lists)
	}
	card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if !strings.Contains(string(card), "is null\n(an optional column) on rows that declare none") {
		t.Errorf("the card does not say that tools is null on rows without tools:\n%s", card)
	}
}

// The card says which trainers honour a message's weight 0: OpenAI's and
// Axolotl's (message_field_training: weight), not TRL's SFTTrainer, whose
// tokenize_fn (trl/trainer/sft_trainer.py, above) passes the messages to
// apply_chat_template with no weight, nor Unsloth through it.
func TestCardSaysWhoReadsWeight(t *testing.T) {
	in := filepath.Join(t.TempDir(), "w.jsonl")
	os.WriteFile(in, []byte(`{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Not this.","weight":0},{"role":"user","content":"Again?"},{"role":"assistant","content":"This.","weight":1}]}`+"\n"), 0o644)
	for _, extra := range []string{"", filepath.Join("testdata", "openai_tools.jsonl")} {
		inputs := []string{in}
		if extra != "" {
			inputs = append(inputs, extra)
		}
		dir := t.TempDir()
		if _, err := Export(context.Background(), inputs, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0}); err != nil {
			t.Fatal(err)
		}
		card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		for _, want := range []string{"honoured by OpenAI's fine-tuning and by Axolotl\nwith `message_field_training: weight`", "TRL's `SFTTrainer` (and Unsloth, which uses it) does not read"} {
			if !strings.Contains(string(card), want) {
				t.Errorf("card (inputs %v) lacks %q", inputs, want)
			}
		}
	}
}

// openai lines carry tools only where the example declares some (OpenAI
// reads each line on its own); the README says so instead of claiming
// that every line of a format has the same keys.
func TestJSONLKeysAsDocumented(t *testing.T) {
	dir := t.TempDir()
	inputs := []string{filepath.Join("testdata", "openai_tools.jsonl"), corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"}
	if _, err := Export(context.Background(), inputs, Options{Target: TargetOpenAI, OutDir: dir, Split: 1, NearDup: 0}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	with, without := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["tools"]; ok {
			with++
		} else {
			without++
		}
	}
	if with == 0 || without == 0 {
		t.Fatalf("%d lines with tools, %d without: the test wants both", with, without)
	}
	readme, _ := os.ReadFile(filepath.Join("..", "README.md"))
	if strings.Contains(string(readme), "Every JSONL line of a format has the same keys") || !strings.Contains(string(readme), "`openai` and `vertex` lines carry `tools`") {
		t.Error("README still claims one key set for every format's lines")
	}
}
