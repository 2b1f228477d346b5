package review

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/datasets"
)

func qa(q, a string) datasets.Example {
	ex := datasets.Example{Messages: []datasets.Message{{Role: "user", Content: q}, {Role: "assistant", Content: a}}}
	ex.EnsureID()
	return ex
}

func TestPathFor(t *testing.T) {
	for in, want := range map[string]string{"a/data.jsonl": "a/data.review.jsonl", "x.jsonl.gz": "x.review.jsonl", "plain": "plain.review.jsonl"} {
		if got := PathFor(in); got != want {
			t.Errorf("PathFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// The last decision of an id wins, across a reload; unreviewed takes one
// back; an edit replaces the messages and keeps the id; a decision made on
// content that changed since is not applied.
func TestDecisionsApply(t *testing.T) {
	path := filepath.Join(t.TempDir(), "review.jsonl")
	s, _ := Load(path)
	a, b, c := qa("one?", "1"), qa("two?", "2"), qa("three?", "3")
	edited := []datasets.Message{{Role: "user", Content: "two?"}, {Role: "assistant", Content: "two, fixed"}}
	for _, d := range []Decision{
		{ID: a.ID, Decision: Accept, Base: Base(&a)},
		{ID: a.ID, Decision: Reject, Base: Base(&a)},
		{ID: b.ID, Decision: Edit, Messages: edited, Base: Base(&b)},
		{ID: c.ID, Decision: Reject, Base: Base(&c)},
		{ID: c.ID, Decision: Unreviewed, Base: Base(&c)},
	} {
		if err := s.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ex   datasets.Example
		want string
	}{{a, StateRejected}, {b, StateEdited}, {c, StateUnreviewed}, {qa("four?", "4"), StateUnreviewed}} {
		ex := tc.ex
		if got := s.Apply(&ex); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.ex.Messages[0].Content, got, tc.want)
		}
		if tc.want == StateEdited && (ex.ID != tc.ex.ID || ex.Messages[1].Content != "two, fixed") {
			t.Errorf("edit applied as %+v", ex)
		}
	}
	// The same id, other content: changed upstream, not applied.
	changed := a
	changed.Messages = []datasets.Message{{Role: "user", Content: "one?"}, {Role: "assistant", Content: "one, regenerated"}}
	if got := s.Apply(&changed); got != StateChanged {
		t.Errorf("changed upstream: %s", got)
	}
	if (&Set{}).Apply(&a) != "" || (*Set)(nil).Apply(&a) != "" {
		t.Error("no decisions: Apply should say nothing")
	}
}

// A line cut short by a crash is skipped with a warning naming file:line,
// and the next decision starts on a line of its own.
func TestDecisionsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.review.jsonl")
	os.WriteFile(path, []byte(`{"id":"x","decision":"accept","time":"2026-01-01T00:00:00Z"}`+"\n"+`{"id":"y","decis`), 0o644)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Skipped != 1 || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "r.review.jsonl:2") {
		t.Errorf("skipped %d, warnings %q", s.Skipped, s.Warnings)
	}
	if err := s.Append(Decision{ID: "y", Decision: Reject}); err != nil {
		t.Fatal(err)
	}
	s, _ = Load(path)
	if d, ok := s.Get("y"); !ok || d.Decision != Reject || s.Skipped != 1 {
		t.Errorf("after append: %+v %v skipped %d", d, ok, s.Skipped)
	}
	if d, _ := s.Get("x"); d.Decision != Accept {
		t.Errorf("x: %+v", d)
	}
	for _, bad := range []Decision{{Decision: Accept}, {ID: "z", Decision: "maybe"}, {ID: "z", Decision: Edit}} {
		if err := s.Append(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// Many writers at once (two tabs, two processes) lose nothing: every line
// is whole.
func TestDecisionsConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "review.jsonl")
	var wg sync.WaitGroup
	long := strings.Repeat("word ", 20000) // lines longer than a pipe buffer
	for w := 0; w < 4; w++ {
		s, _ := Load(path) // each its own Set, as separate processes
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				id := string(rune('a'+w)) + "-" + string(rune('A'+i))
				msgs := []datasets.Message{{Role: "user", Content: "q"}, {Role: "assistant", Content: long}}
				if err := s.Append(Decision{ID: id, Decision: Edit, Messages: msgs}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 100 || s.Skipped != 0 {
		t.Errorf("%d decisions, %d lines skipped; want 100, 0", s.Len(), s.Skipped)
	}
}

func FuzzLoadDecisions(f *testing.F) {
	f.Add([]byte(`{"id":"a","decision":"edit","messages":[{"role":"user","content":"q"}],"time":"2026-01-01T00:00:00Z"}` + "\n{\"id\":1}\n\n"))
	f.Add([]byte("{\"id\":\"b\",\"decision\":\"reject\"}\n{\"id\":\"b\",\"decision\":\"unreviewed\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.review.jsonl")
		os.WriteFile(path, b, 0o644)
		s, err := Load(path)
		if err != nil {
			return
		}
		for id, d := range s.last {
			if id == "" || d.check() != nil {
				t.Fatalf("kept a bad decision %+v", d)
			}
		}
	})
}

// A preference pair's swap (what the page's s key writes: an edit whose
// chosen reply is the old rejected one and back) is applied whole, and a
// pair can be rejected like any example.
func TestDecisionsPreferencePair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "review.jsonl")
	s, _ := Load(path)
	pair := func(q, chosen, rejected string) datasets.Example {
		ex := datasets.Example{
			Messages: []datasets.Message{{Role: "user", Content: q}, {Role: "assistant", Content: chosen}},
			Rejected: []datasets.Message{{Role: "assistant", Content: rejected}},
		}
		ex.EnsureID()
		return ex
	}
	p, q := pair("why?", "because", "no idea"), pair("how?", "like this", "somehow")
	swapped := []datasets.Message{{Role: "user", Content: "why?"}, {Role: "assistant", Content: "no idea"}}
	for _, d := range []Decision{
		{ID: p.ID, Decision: Edit, Messages: swapped, Rejected: []datasets.Message{{Role: "assistant", Content: "because"}}, Base: Base(&p)},
		{ID: q.ID, Decision: Reject, Base: Base(&q)},
	} {
		if err := s.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ex := p
	if got := s.Apply(&ex); got != StateEdited {
		t.Fatalf("swap: %s, want %s", got, StateEdited)
	}
	if !ex.IsPair() || ex.Messages[1].Content != "no idea" || ex.Rejected[0].Content != "because" || ex.ID != p.ID {
		t.Errorf("swap applied as %+v", ex)
	}
	if p.Messages[1].Content != "because" {
		t.Error("Apply changed the decision's source example's messages in place")
	}
	ex = q
	if got := s.Apply(&ex); got != StateRejected {
		t.Errorf("rejected pair: %s", got)
	}
}

// A decisions file that is a device or a pipe is refused at once: a line
// longer than the limit is read to its end to skip it, so --review
// /dev/zero read for ever (found by bench/hostile.sh; issue 29, case 4).
func TestDecisionsNotRegularRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "decisions.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		done := make(chan error, 1)
		go func() { _, err := Load(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want it refused", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5 s", path)
		}
	}
}
