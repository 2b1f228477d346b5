package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/cutchat"
	"github.com/tuneline/tuneline/internal/testenv"
)

// A run whose synth loses 2 of its 40 tasks (every reply to them cut;
// the server is a stand-in for fault injection, the pipeline is real)
// keeps what the other 38 made, exports it and says so: in the synth
// stage's summary, the manifest and the report. The next run retries only
// those 2 (the others come from the cache). Above synth.max_failed the
// stage fails as before.
func TestRunKeepsWhatSynthMade(t *testing.T) {
	proxy := cutchat.New(testenv.TinyModel, 2)
	front := httptest.NewServer(proxy)
	defer front.Close()
	dir := workspace(t, front.URL)
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	s := strings.Replace(string(b), "  api: ollama\n", "  api: openai\n  base_url: "+front.URL+"/v1\n", 1)
	// 20 chunks of two tasks (Q&A and one conversation), no judge, no
	// models.
	s = strings.Replace(s, "  chunk_tokens: 120 ", "  chunk_tokens: 45 ", 1)
	s = strings.Replace(s, "  conversations: 0 ", "  conversations: 1 ", 1)
	s = strings.Replace(s, "curate:\n", "curate:\n  enabled: false\n", 1)
	s = strings.Replace(s, "  near_dup: 0.8\n", "  near_dup: 0\n", 1) // the stand-in's replies are alike
	s += "\ncreate:\n  enabled: false\neval:\n  enabled: false\n"
	os.WriteFile(ws, []byte(s), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := func() (*Result, string, error) {
		var log strings.Builder
		res, err := Run(context.Background(), cfg, Options{Version: "test", Log: &log})
		return res, log.String(), err
	}

	// Above the threshold (none may fail): the stage fails, nothing is
	// exported.
	cfg.Synth.MaxFailed = 0
	if _, log, err := run(); err == nil || !strings.Contains(err.Error(), "more than synth.max_failed") {
		t.Fatalf("max_failed 0: %v\n%s", err, log)
	}
	if _, err := os.Stat(filepath.Join(cfg.Path(cfg.Build), "export")); err == nil {
		t.Fatal("an export although synth failed")
	}

	// At the default, 2 of 40 is within it.
	cfg.Synth.MaxFailed = 0.05
	res, log, err := run()
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	syn := actions(res)["synth"]
	t.Logf("synth: %s", syn.Summary)
	m := regexp.MustCompile(`(\d+) of (\d+) tasks failed after their retries \(cut 2\)`).FindStringSubmatch(syn.Summary)
	if syn.Action != "ran" || m == nil || m[1] != "2" {
		t.Fatalf("synth %s: %q does not say 2 tasks failed", syn.Action, syn.Summary)
	}
	if tasks, _ := strconv.Atoi(m[2]); tasks != 40 {
		t.Errorf("%d tasks, the test wants 40", tasks)
	}
	if !strings.Contains(syn.Summary, "the next run retries them") || len(syn.Failed) != 2 || syn.Allowed != "synth.max_failed 0.05" {
		t.Errorf("the result does not list the 2 failed tasks as allowed: %q %q (%s)", syn.Failed, syn.Allowed, syn.Summary)
	}
	for _, f := range syn.Failed {
		if !strings.Contains(log, "task failed: "+f) {
			t.Errorf("the log does not list %q", f)
		}
	}
	man := ReadManifest(cfg)
	failed := man.Stages["synth"].Failed
	if len(failed) != 2 {
		t.Errorf("manifest lists failed tasks %q", failed)
	}
	page, _ := os.ReadFile(ReportPath(cfg))
	for _, f := range failed {
		m := regexp.MustCompile(`^chunk (\S+) (qa|conversation)#0: cut: `).FindStringSubmatch(f)
		if m == nil {
			t.Errorf("failed task worded %q", f)
			continue
		}
		if !bytes.Contains(page, []byte("chunk "+m[1]+" "+m[2]+"#0: cut")) {
			t.Errorf("the report does not list failed chunk %s", m[1])
		}
	}
	if a := actions(res)["export"]; a.Action != "ran" {
		t.Fatalf("export %s (%s)", a.Action, a.Reason)
	}
	var rep format.Report
	rb, _ := os.ReadFile(filepath.Join(cfg.Path(cfg.Build), "export", format.TargetOpenAI, "export-report.json"))
	made, _ := datasets.CountLines(WorkspaceFiles(cfg).Synth)
	logs, _ := datasets.CountLines(WorkspaceFiles(cfg).ChatLogs)
	if json.Unmarshal(rb, &rep) != nil || rep.Read != made+logs || rep.Written != rep.Read {
		t.Errorf("openai export wrote %d of %d examples read (dropped %v), want the %d the 38 tasks made and the %d of the chat logs", rep.Written, rep.Read, rep.Dropped, made, logs)
	}
	t.Logf("exported %d examples (%d from the 38 tasks)", rep.Written, made)

	// The server is well again: the next run asks for the 2 failed tasks
	// only and finishes with every task.
	proxy.Disarm()
	before := proxy.Asked()
	res, log, err = run()
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	syn = actions(res)["synth"]
	if syn.Action != "ran" || !strings.Contains(syn.Reason, "2 failed last time") {
		t.Errorf("second run: synth %s (%s)", syn.Action, syn.Reason)
	}
	if !strings.Contains(syn.Summary, "(38 tasks from cache") || strings.Contains(syn.Summary, "failed") {
		t.Errorf("second run's synth: %s", syn.Summary)
	}
	if again, cut := proxy.AskedSince(before), proxy.CutTasks(); len(cut) != 2 || !slices.Equal(again, cut) {
		t.Errorf("the second run asked %d tasks again, want the %d that failed", len(again), len(cut))
	}
	if f := ReadManifest(cfg).Stages["synth"].Failed; len(f) != 0 {
		t.Errorf("failed tasks still listed: %q", f)
	}
}
