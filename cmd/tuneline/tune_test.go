package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/iostreams"
	oaistandin "github.com/tuneline/tuneline/internal/standin/openai"
)

// openaiExport writes n examples (chats, or DPO pairs) and exports them in
// the openai format; it returns the export folder.
func openaiExport(t *testing.T, n int, pairs bool) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	topics := []string{"tides", "volcanoes", "bread", "comets", "bees", "glaciers", "coral", "thunder", "maple syrup", "owls", "deserts", "copper", "kites", "salt", "moss"}
	for i := range n {
		topic := topics[i%len(topics)]
		q := fmt.Sprintf("Example %d: what should a beginner know about %s?", i, topic)
		a := fmt.Sprintf("About %s, lesson %d: start with the basics and observe carefully.", topic, i)
		if pairs {
			fmt.Fprintf(&b, `{"input":{"messages":[{"role":"user","content":%q}]},"preferred_output":[{"role":"assistant","content":%q}],"non_preferred_output":[{"role":"assistant","content":"I do not know %d."}]}`+"\n", q, a, i)
		} else {
			fmt.Fprintf(&b, `{"messages":[{"role":"user","content":%q},{"role":"assistant","content":%q}]}`+"\n", q, a)
		}
	}
	in := filepath.Join(dir, "data.jsonl")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "export")
	if code, o, e := run(t, "export", "--format", "openai", "--near-dup", "0", "--split", "0.8", "--out", out, in); code != ExitOK && code != ExitLimits {
		t.Fatalf("export: exit %d\n%s\n%s", code, o, e)
	}
	return out
}

func openaiStandin(t *testing.T) *oaistandin.Server {
	s := oaistandin.New("sk-tuneline-test-0123456789")
	t.Cleanup(s.Close)
	t.Setenv("OPENAI_API_KEY", s.Key)
	t.Setenv("OPENAI_BASE_URL", s.URL)
	return s
}

func TestTuneOpenAISupervisedAndDPO(t *testing.T) {
	s := openaiStandin(t)
	chat := openaiExport(t, 20, false)
	pairs := openaiExport(t, 20, true)
	// Retried, honouring Retry-After.
	s.Fault("POST", "/files", 429, 1, "1")
	s.Fault("GET", "/fine_tuning/jobs/", 503, 1, "")
	start := time.Now()
	code, out, errOut := run(t, "tune", "openai", "--model", "gpt-4o-mini-2024-07-18", "--suffix", "support", "--epochs", "3",
		"--seed", "11", "--learning-rate-multiplier", "0.3", "--batch-size", "2", "--poll", "1ms", chat)
	if code != ExitOK {
		t.Fatalf("supervised: exit %d\n%s", code, errOut)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the 429's Retry-After of 1 s was not honoured (took %v)", d)
	}
	ids := s.JobIDs()
	if len(ids) != 1 {
		t.Fatalf("jobs %v", ids)
	}
	info, _ := s.Job(ids[0])
	if strings.TrimSpace(out) != info.Model || info.Status != "succeeded" || !strings.HasPrefix(info.Model, "ft:gpt-4o-mini-2024-07-18:standin:support:") {
		t.Errorf("stdout %q, job %+v", out, info)
	}
	if info.Method != "supervised" || info.Seed != 11 || info.ValidationFile == "" ||
		info.Hyperparameters["n_epochs"] != 3.0 || info.Hyperparameters["batch_size"] != 2.0 || info.Hyperparameters["learning_rate_multiplier"] != 0.3 {
		t.Errorf("job created as %+v", info)
	}
	for _, want := range []string{"created supervised job " + ids[0], "job " + ids[0] + " running", "Fine-tuning job started", "The job has successfully completed", "job " + ids[0] + " succeeded"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, s.Key) {
		t.Errorf("the key is on stderr:\n%s", errOut)
	}
	reqs := strings.Join(s.Requests(), "\n")
	for _, want := range []string{"POST /v1/files 429\nPOST /v1/files 200", " 503\nGET /v1/fine_tuning/jobs/" + ids[0] + " 200"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no retry (%q):\n%s", want, reqs)
		}
	}

	code, out, errOut = run(t, "tune", "openai", "--model", "gpt-4.1-mini", "--beta", "0.2", "--poll", "1ms", "--json", pairs)
	if code != ExitOK {
		t.Fatalf("dpo: exit %d\n%s", code, errOut)
	}
	var job struct{ ID, Status, TunedModel string }
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	job.ID, _ = raw["id"].(string)
	job.Status, _ = raw["status"].(string)
	job.TunedModel, _ = raw["tuned_model"].(string)
	info, _ = s.Job(job.ID)
	if info.Method != "dpo" || info.Hyperparameters["beta"] != 0.2 || job.Status != "succeeded" || job.TunedModel != info.Model || info.Model == "" {
		t.Errorf("dpo job %+v, printed %s", info, out)
	}
}

func TestTuneOpenAIFailures(t *testing.T) {
	s := openaiStandin(t)
	small := openaiExport(t, 6, false) // under the service's minimum of 10

	code, _, errOut := run(t, "tune", "openai", "--model", "gpt-4o-mini", "--poll", "1ms", small)
	if code != ExitFailure || !strings.Contains(errOut, "failed: Training file has") || !strings.Contains(errOut, "but must have at least 10 examples (invalid_n_examples)") {
		t.Errorf("failed job: exit %d\n%s", code, errOut)
	}

	t.Setenv("OPENAI_API_KEY", "sk-wrong-key-9999")
	code, _, errOut = run(t, "tune", "openai", "--model", "gpt-4o-mini", small)
	if code != ExitFailure || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "OPENAI_API_KEY") || strings.Contains(errOut, "sk-wrong-key-9999") {
		t.Errorf("bad key: exit %d\n%s", code, errOut)
	}
	t.Setenv("OPENAI_API_KEY", "")
	code, _, errOut = run(t, "tune", "openai", "--model", "gpt-4o-mini", small)
	if code != ExitFailure || !strings.Contains(errOut, "OPENAI_API_KEY is not set") {
		t.Errorf("no key: exit %d\n%s", code, errOut)
	}
	t.Setenv("OPENAI_API_KEY", s.Key)

	s.Fault("", "/files", 500, 10, "0")
	code, _, errOut = run(t, "tune", "openai", "--model", "gpt-4o-mini", small)
	if code != ExitFailure || !strings.Contains(errOut, "500") || !strings.Contains(errOut, "try again later") {
		t.Errorf("5xx to the end: exit %d\n%s", code, errOut)
	}
	if n := strings.Count(strings.Join(s.Requests(), "\n"), "POST /v1/files 500"); n != 5 {
		t.Errorf("%d upload attempts, want 5", n)
	}

	rep := filepath.Join(small, "export-report.json")
	b, _ := os.ReadFile(rep)
	os.WriteFile(rep, []byte(strings.Replace(string(b), "{", `{"random_model": true,`, 1)), 0o644)
	before := len(s.Requests())
	code, _, errOut = run(t, "tune", "openai", "--model", "gpt-4o-mini", small)
	if code != ExitFailure || !strings.Contains(errOut, "random-weight") || !strings.Contains(errOut, "--force") || len(s.Requests()) != before {
		t.Errorf("random-model data: exit %d\n%s", code, errOut)
	}

	code, _, errOut = run(t, "tune", "openai", "--model", "gpt-4o-mini", t.TempDir())
	if code != ExitFailure || !strings.Contains(errOut, "not a tuneline export") {
		t.Errorf("not an export: exit %d\n%s", code, errOut)
	}
}

// TestTuneDetachResume: --no-wait and Ctrl-C leave the job running; status
// --wait follows it to its end; cancel stops another.
func TestTuneDetachResume(t *testing.T) {
	s := openaiStandin(t)
	dir := openaiExport(t, 15, false)

	code, out, errOut := run(t, "tune", "openai", "--model", "gpt-4o-mini", "--no-wait", dir)
	id := strings.TrimSpace(out)
	if code != ExitOK || !strings.HasPrefix(id, "ftjob-") || !strings.Contains(errOut, "tune status --wait "+id) {
		t.Fatalf("--no-wait: exit %d %q\n%s", code, out, errOut)
	}

	ios, _, o, e := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(s.JobIDs()) < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	code = Run(ctx, []string{"tuneline", "tune", "openai", "--model", "gpt-4o-mini", "--poll", "1h", dir}, ios)
	ids := s.JobIDs()
	if code != ExitInterrupted || !strings.Contains(e.String(), "the job goes on") || !strings.Contains(e.String(), "tune status --wait "+ids[1]) || o.Len() != 0 {
		t.Errorf("Ctrl-C: exit %d\n%s", code, e.String())
	}
	if info, _ := s.Job(ids[1]); info.Status == "cancelled" || info.Status == "succeeded" {
		t.Errorf("the job after Ctrl-C: %+v", info)
	}

	code, out, errOut = run(t, "tune", "status", id)
	if code != ExitOK || !strings.HasPrefix(out, id+"\t") {
		t.Errorf("status: exit %d %q\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "tune", "status", "--wait", "--poll", "1ms", id)
	info, _ := s.Job(id)
	if code != ExitOK || strings.TrimSpace(out) != info.Model || info.Model == "" {
		t.Errorf("status --wait: exit %d %q\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "tune", "cancel", ids[1])
	if info, _ := s.Job(ids[1]); code != ExitOK || info.Status != "cancelled" || !strings.Contains(out, "cancelled") {
		t.Errorf("cancel: exit %d %q %+v\n%s", code, out, info, errOut)
	}
	code, _, errOut = run(t, "tune", "status", "--wait", ids[1])
	if code != ExitFailure || !strings.Contains(errOut, "was cancelled") {
		t.Errorf("status --wait of a cancelled job: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "tune", "status", "job-123")
	if code != ExitUsage {
		t.Errorf("unknown job id: exit %d\n%s", code, errOut)
	}
}
