package memory

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestRetrievePlantedFact(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	facts := filepath.Join(t.TempDir(), "facts.yaml")
	os.WriteFile(facts, []byte("student:\n  favourite particle: muon\n  name: Sam\ncourse:\n  exam date: 12 June\n"), 0o644)
	if n, err := s.LoadFacts(facts); err != nil || n != 3 {
		t.Fatalf("%d %v", n, err)
	}
	s.AddEpisode(Episode{Query: "What is entropy?", Response: "A count of microstates."})
	s.AddEpisode(Episode{Query: "When is the exam?", Response: "On 12 June."})
	r, err := s.Retrieve("Which particle is my favourite?", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Facts) != 1 || r.Facts[0].Value != "muon" {
		t.Errorf("facts %v", r.Facts)
	}
	r, _ = s.Retrieve("remind me about entropy", 2)
	if len(r.Episodes) != 1 || r.Episodes[0].Query != "What is entropy?" {
		t.Errorf("episodes %v", r.Episodes)
	}
	if r, _ := s.Retrieve("zzz qqq", 3); len(r.Facts)+len(r.Episodes) != 0 || r.Context() != "" {
		t.Errorf("unrelated question recalled %v", r)
	}
}

// Several writers (each with its own handle, as separate chat sessions
// would be) record every interaction with a unique id.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 10 {
				e, err := s.AddEpisode(Episode{Query: fmt.Sprintf("q%d-%d", w, i), Response: "r"})
				if err != nil {
					t.Error(err)
					return
				}
				if err := s.AppendLog(e); err != nil {
					t.Error(err)
				}
				s.AddFact(Fact{"writer", fmt.Sprint(w), fmt.Sprint(i)})
			}
		}()
	}
	wg.Wait()
	s, _ := Open(dir)
	eps, err := s.Episodes()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint64]bool{}
	for _, e := range eps {
		ids[e.ID] = true
	}
	if len(eps) != 40 || len(ids) != 40 {
		t.Errorf("%d episodes, %d ids", len(eps), len(ids))
	}
	b, _ := os.ReadFile(s.LogPath())
	if n := len(splitLines(string(b))); n != 40 {
		t.Errorf("%d log lines", n)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
