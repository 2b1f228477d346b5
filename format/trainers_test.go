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
