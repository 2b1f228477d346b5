package llm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/standin/openai"
)

// BatchAPI against the stand-in (its echo engine): submit, follow with
// rising counts, download output and error files; the batch's id is kept
// (without the key) until forgotten, and a second Submit of the same key
// follows it.
func TestBatchAPIStandIn(t *testing.T) {
	s := openai.New("sk-unit-test-key-7777")
	defer s.Close()
	dir := t.TempDir()
	reqs := filepath.Join(dir, "requests.jsonl")
	os.WriteFile(reqs, []byte(`{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}
{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}
{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"ho"}]}}
`), 0o644)
	a, err := NewBatchAPI(s.URL, s.Key, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	a.Poll = time.Millisecond
	ctx := context.Background()
	j, err := a.Submit(ctx, reqs, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Submitted("k1") != j.ID {
		t.Fatalf("no record of %s", j.ID)
	}
	st, _ := os.ReadFile(a.statePath("k1"))
	if strings.Contains(string(st), s.Key) {
		t.Errorf("the state holds the key: %s", st)
	}
	again, err := a.Submit(ctx, reqs, "k1")
	if err != nil || again.ID != j.ID {
		t.Fatalf("second submit: %v %s, want %s", err, again.ID, j.ID)
	}
	var seen []string
	j, err = a.Wait(ctx, j, func(j BatchJob) { seen = append(seen, j.Status) })
	if err != nil || j.Status != "completed" || j.RequestCounts.Completed != 2 || j.RequestCounts.Failed != 1 {
		t.Fatalf("%v %+v", err, j)
	}
	if strings.Join(seen, " ") != "validating in_progress in_progress finalizing completed" {
		t.Errorf("progress %v", seen)
	}
	files, err := a.Download(ctx, j)
	if err != nil || len(files) != 2 {
		t.Fatalf("%v %v", err, files)
	}
	b := NewBatch(filepath.Join(dir, "store"))
	for _, f := range files {
		if err := b.ReadResults(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if b.stats.ResultLines != 3 || b.stats.ErrorLines != 1 || b.errs["b"].Status != 400 {
		t.Errorf("results %+v %+v", b.stats, b.errs)
	}
	if err := a.Forget("k1"); err != nil || a.Submitted("k1") != "" {
		t.Errorf("forget: %v", err)
	}
	if _, err := NewBatchAPI(s.URL, "", dir); err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Errorf("no key: %v", err)
	}
	bad, _ := NewBatchAPI(s.URL, "sk-wrong-key-0000", dir)
	if _, err := bad.Submit(ctx, reqs, "k2"); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "sk-wrong-key-0000") {
		t.Errorf("wrong key: %v", err)
	}
}
