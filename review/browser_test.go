package review

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
)

// serve starts a review server on a loopback port for the test and returns
// the page's address.
func serve(t testing.TB, opt Options) (*Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, s.URL(ln)
}

// until polls a page expression until it is true.
func until(ctx context.Context, js string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not true after %v (%v)", js, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keys presses keys on the page, waiting after each for the page to have
// done what it asked (the expression, when not empty).
func keys(t *testing.T, ctx context.Context, k string, opts ...chromedp.KeyOption) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k, opts...)); err != nil {
		t.Fatal(err)
	}
}

func wait(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	if err := until(ctx, js, 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

const stateIs = `document.getElementById('detail').dataset.id === %q && document.getElementById('detail').dataset.state === %q`

// Keyboard only: reject the first, j, edit the second (e, typing,
// Ctrl+Enter), j, accept the third and undo it; the decisions file holds
// the reject and the edit, and the third is unreviewed again.
func TestBrowserKeyboardReview(t *testing.T) {
	ctx := testenv.Browser(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data.jsonl")
	exs := sample()
	writeExamples(t, path, exs)
	s, url := serve(t, Options{Examples: path, Flags: FlagOptions{MaxTokens: 4096, NearDup: 0.8}})
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	wait(t, ctx, fmt.Sprintf(`document.getElementById('detail').dataset.id === %q`, exs[0].ID))
	keys(t, ctx, "r")
	wait(t, ctx, fmt.Sprintf(stateIs, exs[0].ID, StateRejected))
	keys(t, ctx, "j")
	wait(t, ctx, fmt.Sprintf(`document.getElementById('detail').dataset.id === %q`, exs[1].ID))
	keys(t, ctx, "e")
	wait(t, ctx, `document.activeElement && document.activeElement.id === 'edit-text'`)
	// Replace the reply: select all, then type.
	keys(t, ctx, "a", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	keys(t, ctx, "Blue light scatters most.")
	keys(t, ctx, kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl))
	wait(t, ctx, fmt.Sprintf(stateIs, exs[1].ID, StateEdited))
	keys(t, ctx, "j")
	wait(t, ctx, fmt.Sprintf(`document.getElementById('detail').dataset.id === %q`, exs[2].ID))
	keys(t, ctx, "a")
	wait(t, ctx, fmt.Sprintf(stateIs, exs[2].ID, StateAccepted))
	keys(t, ctx, "u")
	wait(t, ctx, fmt.Sprintf(stateIs, exs[2].ID, StateUnreviewed))
	// Escape leaves the editor without saving.
	keys(t, ctx, "e")
	wait(t, ctx, `document.activeElement && document.activeElement.id === 'edit-text'`)
	keys(t, ctx, "not saved")
	keys(t, ctx, kb.Escape)
	wait(t, ctx, `document.getElementById('editor').hidden`)

	set, err := Load(s.Decisions().Path())
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := set.Get(exs[0].ID); !ok || d.Decision != Reject {
		t.Errorf("first: %+v", d)
	}
	d, ok := set.Get(exs[1].ID)
	if !ok || d.Decision != Edit || d.Messages[len(d.Messages)-1].Content != "Blue light scatters most." || d.Messages[0].Content != exs[1].Messages[0].Content {
		t.Errorf("second: %+v", d)
	}
	if d, ok := set.Get(exs[2].ID); ok {
		t.Errorf("third after undo: %+v", d)
	}
	// The counts on the page agree.
	counts, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('counts').textContent`))
	for _, want := range []string{"0 accepted", "1 rejected", "1 edited", "1 unreviewed"} {
		if !strings.Contains(counts, want) {
			t.Errorf("counts %q lack %q", counts, want)
		}
	}
}

// Markup in a question, a reply, a rejected reply, provenance and a source
// passage is shown as text and never runs.
func TestBrowserMarkupNeverRuns(t *testing.T) {
	ctx := testenv.Browser(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data.jsonl")
	bad := `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><svg onload="window.__pwned = 3">`
	ex := datasets.Example{
		Messages: []datasets.Message{{Role: "system", Content: bad}, {Role: "user", Content: "Q " + bad}, {Role: "assistant", Content: "A " + bad}},
		Rejected: []datasets.Message{{Role: "assistant", Content: "R " + bad}},
		Meta: datasets.Meta{Source: bad, Section: bad, ChunkID: "c1", QuestionType: bad, Scores: map[string]float64{"accuracy": 2},
			Extra: map[string]string{"judge_reason": "J " + bad}},
	}
	writeExamples(t, path, []datasets.Example{ex})
	chunks := filepath.Join(dir, "chunks.jsonl")
	writeChunk(t, chunks, "c1", "P "+bad)
	_, url := serve(t, Options{Examples: path, Chunks: chunks})
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	wait(t, ctx, `document.body.dataset.ready === '1'`)
	wait(t, ctx, `document.getElementById('passage').textContent.startsWith('P <script>')`)
	// Open the editor too: its text box holds the reply as text.
	keys(t, ctx, "e")
	wait(t, ctx, `document.getElementById('edit-text').value.startsWith('A <script>')`)
	time.Sleep(300 * time.Millisecond) // an image's error event would have fired
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__pwned)`))
	if err != nil || pwned != "undefined" {
		t.Fatalf("markup from the data ran: window.__pwned = %s (%v)", pwned, err)
	}
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#detail script, #detail img, #detail svg, #list img').length`))
	if n != 0 {
		t.Errorf("%d elements made from the data's markup", n)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('detail').textContent`))
	for _, want := range []string{"Q <script>", "A <script>", "R <script>", "J <script>", `onerror="window.__pwned = 2"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	// Nothing but the page's own script may run: an inline script is
	// refused by the policy even if one got into the DOM.
	inline, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s); return String(window.__inline); })()`))
	if inline != "undefined" {
		t.Errorf("an inline script ran (window.__inline = %s): the Content-Security-Policy is missing", inline)
	}
}

// A page without the token gets nothing.
func TestBrowserNoToken(t *testing.T) {
	ctx := testenv.Browser(t)
	path := filepath.Join(t.TempDir(), "data.jsonl")
	writeExamples(t, path, sample())
	_, url := serve(t, Options{Examples: path})
	if err := chromedp.Do(ctx, chromedp.Navigate(strings.Split(url, "?")[0])); err != nil {
		t.Fatal(err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`))
	if !strings.Contains(body, "needs the token") || strings.Contains(body, "review") && strings.Contains(body, "accept") {
		t.Errorf("without the token the page shows %q", body)
	}
}

// Two tabs deciding at once, each on its own examples, lose nothing; each
// sees the other's decisions in its counts.
func TestBrowserTwoTabs(t *testing.T) {
	ctx := testenv.Browser(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data.jsonl")
	var exs []datasets.Example
	for i := 0; i < 12; i++ {
		exs = append(exs, qa(fmt.Sprintf("Question number %d about light?", i), fmt.Sprintf("Answer %d, with its own words %d.", i, i*i)))
	}
	writeExamples(t, path, exs)
	s, url := serve(t, Options{Examples: path})
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	tabs := []context.Context{ctx, tab2}
	for _, tab := range tabs {
		if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		wait(t, tab, `document.body.dataset.ready === '1'`)
	}
	// Tab 2 filters to the second half by searching "Question number"
	// would match all; instead it steps to example 6 first.
	for i := 0; i < 6; i++ {
		keys(t, tab2, "j")
	}
	wait(t, tab2, fmt.Sprintf(`document.getElementById('detail').dataset.id === %q`, exs[6].ID))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for k, tab := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"r", "a"}[k]
			for i := 0; i < 6; i++ {
				id := exs[6*k+i].ID
				want := []string{StateRejected, StateAccepted}[k]
				if err := chromedp.Do(tab, chromedp.KeyEvent(key)); err != nil {
					errs[k] = err
					return
				}
				if err := until(tab, fmt.Sprintf(stateIs, id, want), 20*time.Second); err != nil {
					errs[k] = err
					return
				}
				if i < 5 {
					chromedp.Do(tab, chromedp.KeyEvent("j"))
					if err := until(tab, fmt.Sprintf(`document.getElementById('detail').dataset.id === %q`, exs[6*k+i+1].ID), 20*time.Second); err != nil {
						errs[k] = err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	set, err := Load(s.Decisions().Path())
	if err != nil || set.Skipped != 0 {
		t.Fatalf("%v, %d lines skipped", err, set.Skipped)
	}
	for i, ex := range exs {
		want := Reject
		if i >= 6 {
			want = Accept
		}
		if d, ok := set.Get(ex.ID); !ok || d.Decision != want {
			t.Errorf("example %d: %+v, want %s", i, d, want)
		}
	}
	// A reload shows every decision.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	wait(t, ctx, `document.getElementById('counts').textContent.includes('6 accepted') && document.getElementById('counts').textContent.includes('6 rejected')`)
}
