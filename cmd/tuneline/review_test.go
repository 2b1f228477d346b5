package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/review"
)

// exported is the openai export's lines, train and validation.
func exported(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, split := range []string{"train", "validation"} {
		b, err := os.ReadFile(filepath.Join(dir, "build/export/openai", split+".jsonl"))
		if err != nil && split == "train" {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

func holding(lines []string, text string) int {
	b, _ := json.Marshal(text)
	n := 0
	for _, l := range lines {
		if strings.Contains(l, strings.Trim(string(b), `"`)) {
			n++
		}
	}
	return n
}

// The path, end to end: a workspace is built with a real model;
// tuneline review serves it; with the keyboard only the first example is
// rejected (r) and the second edited (j, e, typing, Ctrl+Enter), a third
// accepted and undone (u); review.jsonl holds them; the next tuneline run
// re-exports one example fewer, without the rejected one and with the
// edited text, and the export report and the HTML report count them.
func TestReviewWorkspaceKeyboard(t *testing.T) {
	srv := testenv.Ollama(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/physics-expert")); err != nil {
		t.Fatal(err)
	}
	y, _ := os.ReadFile(filepath.Join(dir, "tuneline.yaml"))
	s := string(y)
	s = strings.Replace(s, `host: ""`, `host: "`+srv.URL+`"`, 1)
	s = strings.Replace(s, "model: llama3.2", "model: "+testenv.TinyModel, 1)
	s = strings.Replace(s, "local: auto", "local: never", 1)
	s = strings.Replace(s, "synth:\n", "synth:\n  max_question_chars: 40\n  max_answer_chars: 100\n", 1)
	s = strings.Replace(s, "formats: [openai, hf, vertex]", "formats: [openai]", 1)
	s = s[:strings.Index(s, "\nmodels:")] + "\n" // no model to create: this test is about the data
	os.WriteFile(filepath.Join(dir, "tuneline.yaml"), []byte(s), 0o644)
	if code, out, errOut := run(t, "run", dir); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	before := exported(t, dir)
	var exs []datasets.Example
	for rec, err := range datasets.ReadFile(context.Background(), filepath.Join(dir, "build/curated.jsonl")) {
		if err != nil || rec.Err != nil {
			t.Fatal(err, rec.Err)
		}
		exs = append(exs, rec.Example)
	}
	if len(exs) < 3 {
		t.Fatalf("%d curated examples: the test needs 3", len(exs))
	}
	last := func(ex datasets.Example) string { return ex.Messages[len(ex.Messages)-1].Content }
	if holding(before, last(exs[0])) == 0 || holding(before, last(exs[1])) == 0 {
		t.Fatalf("the first two curated examples should be in the first export")
	}

	// tuneline review WORKSPACE, as a user runs it.
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"tuneline", "review", "--no-open", dir}, &iostreams.IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: io.Discard})
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(url, "/?t=") {
		t.Fatalf("printed %q", url)
	}
	b := testenv.Browser(t)
	wait := func(js string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := chromedp.Run(b, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not true (%v)", js, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	press := func(k string, opts ...chromedp.KeyOption) {
		t.Helper()
		if err := chromedp.Do(b, chromedp.KeyEvent(k, opts...)); err != nil {
			t.Fatal(err)
		}
	}
	at := func(ex datasets.Example, state string) string {
		return fmt.Sprintf(`document.getElementById('detail').dataset.id === %q && document.getElementById('detail').dataset.state === %q`, ex.ID, state)
	}
	if err := chromedp.Do(b, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	wait(at(exs[0], review.StateUnreviewed))
	// The source passage and the judge's reason are on the page.
	wait(`!document.getElementById('passage').textContent.startsWith('(no source passage')`)
	press("r")
	wait(at(exs[0], review.StateRejected))
	press("j")
	wait(at(exs[1], review.StateUnreviewed))
	press("e")
	wait(`document.activeElement && document.activeElement.id === 'edit-text'`)
	press("a", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	const edited = "Light is a wave and a stream of photons."
	press(edited)
	press(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl))
	wait(at(exs[1], review.StateEdited))
	press("j")
	wait(at(exs[2], review.StateUnreviewed))
	press("a")
	wait(at(exs[2], review.StateAccepted))
	press("u")
	wait(at(exs[2], review.StateUnreviewed))
	stop()
	if code := <-done; code != 0 {
		t.Errorf("review exited %d", code)
	}

	set, err := review.Load(filepath.Join(dir, "review.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := set.Get(exs[0].ID); !ok || d.Decision != review.Reject {
		t.Errorf("review.jsonl, first: %+v", d)
	}
	if d, ok := set.Get(exs[1].ID); !ok || d.Decision != review.Edit || last(datasets.Example{Messages: d.Messages}) != edited {
		t.Errorf("review.jsonl, second: %+v", d)
	}
	if d, ok := set.Get(exs[2].ID); ok {
		t.Errorf("review.jsonl, third after undo: %+v", d)
	}

	code, out, errOut := run(t, "run", dir)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	after := exported(t, dir)
	if len(after) != len(before)-1 {
		t.Errorf("exported %d examples, then %d: want one fewer", len(before), len(after))
	}
	if holding(after, last(exs[0])) != 0 {
		t.Error("the rejected example was exported")
	}
	if holding(after, edited) != 1 || holding(after, last(exs[1])) != 0 {
		t.Errorf("the edited text is exported %d times, the original %d times", holding(after, edited), holding(after, last(exs[1])))
	}
	var rep format.Report
	rb, _ := os.ReadFile(filepath.Join(dir, "build/export/openai/export-report.json"))
	json.Unmarshal(rb, &rep)
	if rep.Review["rejected"] != 1 || rep.Review["edited"] != 1 || rep.Dropped["rejected_in_review"] != 1 {
		t.Errorf("export report: review %v, dropped %v", rep.Review, rep.Dropped)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "build/report.html"))
	if !strings.Contains(string(page), "after review (1 rejected, 1 edited") {
		t.Error("the HTML report does not count the review")
	}
	// A third run has nothing to redo: the decisions did not change.
	if code, out, errOut := run(t, "run", dir); code != 0 || !strings.Contains(out+errOut, "export") {
		t.Errorf("third run: exit %d\n%s%s", code, out, errOut)
	}
}

// export --review applies a decisions file outside a workspace and says
// what it did; review refuses what it cannot serve, with the reason.
func TestExportReviewFlagAndReviewErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.jsonl")
	var lines []string
	var exs []datasets.Example
	for i := 0; i < 12; i++ {
		ex := datasets.Example{Messages: []datasets.Message{{Role: "user", Content: fmt.Sprintf("Question %d on a topic of its own, number %d?", i, i*7)},
			{Role: "assistant", Content: fmt.Sprintf("Answer %d, in words that differ: %d.", i, i*i*13)}}}
		ex.EnsureID()
		exs = append(exs, ex)
		b, _ := json.Marshal(ex)
		lines = append(lines, string(b))
	}
	os.WriteFile(data, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	set, _ := review.Load(review.PathFor(data))
	set.Append(review.Decision{ID: exs[0].ID, Decision: review.Reject, Base: review.Base(&exs[0])})
	ed := append([]datasets.Message{}, exs[1].Messages...)
	ed[1].Content = "a better answer"
	set.Append(review.Decision{ID: exs[1].ID, Decision: review.Edit, Messages: ed, Base: review.Base(&exs[1])})
	out := filepath.Join(dir, "out")
	code, stdout, errOut := run(t, "export", "--format", "openai", "--split", "1", "--near-dup", "0", "--out", out, "--review", review.PathFor(data), data)
	if code != 0 || !strings.Contains(stdout, "11 written") || !strings.Contains(stdout, "review: 1 rejected, 1 edited, 10 unreviewed") {
		t.Errorf("export --review: exit %d\n%s%s", code, stdout, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "train.jsonl")); !strings.Contains(string(b), "a better answer") || strings.Contains(string(b), exs[0].Messages[1].Content) {
		t.Errorf("train.jsonl:\n%s", b)
	}
	if code, _, errOut := run(t, "export", "--format", "openai", "--out", filepath.Join(dir, "o2"), "--review", filepath.Join(dir, "none.jsonl"), data); code != 1 || !strings.Contains(errOut, "none.jsonl") {
		t.Errorf("a missing decisions file: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "review", "--no-open", filepath.Join(dir, "missing.jsonl")); code != 1 || !strings.Contains(errOut, "missing.jsonl") {
		t.Errorf("review of a missing file: exit %d %s", code, errOut)
	}
	if code, _, _ := run(t, "review", "a", "b"); code != ExitUsage {
		t.Errorf("review a b: exit %d, want %d", code, ExitUsage)
	}
	ws := t.TempDir()
	os.CopyFS(ws, os.DirFS("../../examples/physics-expert"))
	if code, _, errOut := run(t, "review", "--no-open", ws); code != 1 || !strings.Contains(errOut, "tuneline run") {
		t.Errorf("review of an unbuilt workspace: exit %d %s", code, errOut)
	}
}
