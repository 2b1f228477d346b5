package format

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"

	"github.com/tuneline/tuneline/internal/testenv"
)

var corpora = testenv.Corpus("chat-samples") + "/"

// The numbers published in the OpenAI cookbook's "Data preparation and
// analysis for chat model fine-tuning" for its toy dataset.
func TestToyCookbookNumbers(t *testing.T) {
	s, err := Validate(context.Background(), []string{corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"}, ScanOptions{MaxTokens: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if s.Examples != 5 || s.Invalid != 0 || len(s.Errors) != 0 {
		t.Errorf("examples %d invalid %d errors %v; want 5, 0, none", s.Examples, s.Invalid, s.Errors)
	}
	if s.Warnings[WarnMissingSystem] != 1 || s.Warnings[WarnMissingUser] != 1 {
		t.Errorf("warnings %v; want 1 missing system, 1 missing user", s.Warnings)
	}
	if s.TokensPerExample.Min != 26 || s.TokensPerExample.Max != 8032 {
		t.Errorf("tokens per example %d..%d; want 26..8032", s.TokensPerExample.Min, s.TokensPerExample.Max)
	}
	if s.OverMaxTokens != 1 {
		t.Errorf("over 4096: %d; want 1", s.OverMaxTokens)
	}
	// 45+111+26+28+min(8032,4096) and 20 epochs for 5 examples.
	if s.BillableTokens != 4306 || s.Epochs != 20 || s.ChargedTokens != 86120 {
		t.Errorf("billable %d epochs %d charged %d; want 4306, 20, 86120", s.BillableTokens, s.Epochs, s.ChargedTokens)
	}
	if s.MessagesPerExample.Min != 2 || s.MessagesPerExample.Max != 9 {
		t.Errorf("messages per example %+v", s.MessagesPerExample)
	}
}

// A record over the limit is one invalid record, and the rest of its file
// and the files beside it are validated: validate stopped at it and
// reported nothing (issue 29, case 3, found by bench/hostile.sh).
func TestValidateGoesOnPastTooLong(t *testing.T) {
	dir := t.TempDir()
	good := `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}` + "\n"
	bad := filepath.Join(dir, "bad.jsonl")
	other := filepath.Join(dir, "good.jsonl")
	os.WriteFile(bad, []byte(good+`{"messages":[{"role":"user","content":"`+strings.Repeat("a", 9<<20)+`"}]}`+"\n"+good), 0o644)
	os.WriteFile(other, []byte(good), 0o644)
	s, err := Validate(context.Background(), []string{bad, other}, ScanOptions{MaxTokens: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if s.Examples != 4 || s.Valid != 3 || s.Errors[datasets.ErrTooLong] != 1 {
		t.Errorf("%d examples, %d valid, errors %v; want 4, 3 and one record_too_long", s.Examples, s.Valid, s.Errors)
	}
}
