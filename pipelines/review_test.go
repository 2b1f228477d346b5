package pipelines

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/review"
)

// The review's decisions are an input of the export stage: a new decision
// re-exports one example fewer, without the rejected one and with the
// edit, and the reports count them (no model needed: synth is off and its
// output is given).
func TestRunAppliesReview(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	p := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(p)
	s := strings.Replace(strings.Replace(string(b), "synth:\n", "synth:\n  enabled: false\n", 1), "curate:\n", "curate:\n  enabled: false\n", 1)
	s = strings.Replace(s, "formats: [openai, hf, vertex]", "formats: [openai]", 1)
	os.WriteFile(p, []byte(s[:strings.Index(s, "\nmodels:")]+"\n"), 0o644)
	exs := givenSynthOutput(t, dir, 12, nil)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	report := func() *format.Report {
		var r format.Report
		b, _ := os.ReadFile(filepath.Join(dir, "build/export/openai/export-report.json"))
		json.Unmarshal(b, &r)
		return &r
	}
	if _, err := Run(context.Background(), cfg, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	before := report().Written
	set, _ := review.Load(ReviewPath(cfg))
	set.Append(review.Decision{ID: exs[0].ID, Decision: review.Reject, Base: review.Base(&exs[0])})
	ed := append([]datasets.Message{}, exs[1].Messages...)
	ed[2].Content = "EDITED BY A PERSON"
	set.Append(review.Decision{ID: exs[1].ID, Decision: review.Edit, Messages: ed, Base: review.Base(&exs[1])})
	res, err := Run(context.Background(), cfg, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["export"]; a.Action != "ran" || !strings.Contains(a.Reason, "review") || !strings.Contains(a.Summary, "1 rejected, 1 edited") {
		t.Errorf("export after decisions: %+v", a)
	}
	r := report()
	var out []byte
	for _, f := range []string{"train.jsonl", "validation.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(dir, "build/export/openai", f))
		out = append(out, b...)
	}
	if r.Written != before-1 || r.Review[review.StateRejected] != 1 || r.Review[review.StateEdited] != 1 ||
		strings.Contains(string(out), "Distinct answer 0 ") || !strings.Contains(string(out), "EDITED BY A PERSON") || strings.Contains(string(out), "Distinct answer 1 ") {
		t.Errorf("written %d then %d, review %v\n%s", before, r.Written, r.Review, out)
	}
	if page, _ := os.ReadFile(ReportPath(cfg)); !strings.Contains(string(page), "after review (1 rejected, 1 edited") {
		t.Error("report.html does not count the review")
	}
}
