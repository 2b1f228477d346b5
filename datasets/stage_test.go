package datasets

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func writeSet(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readSet(dir string) map[string]string {
	set := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			set[rel] = string(b)
		}
		return nil
	})
	return set
}

func TestStagedDir(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "out")
	oldSet := map[string]string{"train.jsonl": "old", "validation.jsonl": "old", "data/a.parquet": "old"}
	newSet := map[string]string{"train.jsonl": "new", "export-report.json": "new"}

	// First export: no old set.
	s, err := NewStagedDir(final)
	if err != nil {
		t.Fatal(err)
	}
	writeSet(t, s.Dir, oldSet)
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readSet(final); len(got) != 3 || got["data/a.parquet"] != "old" {
		t.Fatalf("first commit: %v", got)
	}
	// Second: the new set replaces the old one whole (no file of the old
	// set stays), and no staging folder is left.
	s, _ = NewStagedDir(final)
	writeSet(t, s.Dir, newSet)
	if got := readSet(final); got["train.jsonl"] != "old" {
		t.Fatal("staged files showed before the commit")
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readSet(final); len(got) != 2 || got["train.jsonl"] != "new" {
		t.Fatalf("second commit: %v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(parent, ".out.*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// Abort leaves the set as it was.
	s, _ = NewStagedDir(final)
	writeSet(t, s.Dir, oldSet)
	s.Abort()
	if got := readSet(final); got["train.jsonl"] != "new" {
		t.Fatal("abort changed the set")
	}
}

// What a crashed run leaves is cleaned by the next: a staging folder of a
// dead process is removed, and an old set that the rename fallback had
// moved aside (a crash between its two renames) is put back.
func TestCleanStaging(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "out")
	deadPid := "999999999"
	stale := filepath.Join(parent, ".out.staging-"+deadPid+"-1")
	aside := filepath.Join(parent, ".out.staging-"+deadPid+"-2.old")
	live := filepath.Join(parent, ".out.staging-"+strconv.Itoa(os.Getpid())+"-3")
	writeSet(t, stale, map[string]string{"train.jsonl": "half"})
	writeSet(t, aside, map[string]string{"train.jsonl": "old", "validation.jsonl": "old"})
	writeSet(t, live, map[string]string{"train.jsonl": "being written"})
	os.MkdirAll(final, 0o755)
	os.Remove(final) // crashed between "final -> aside" and "staging -> final"
	tmp := filepath.Join(parent, ".x.tmp-"+deadPid+"-7")
	os.WriteFile(tmp, nil, 0o600)

	CleanStaging(final)
	if got := readSet(final); got["train.jsonl"] != "old" || len(got) != 2 {
		t.Errorf("the old set was not restored: %v", got)
	}
	for p, want := range map[string]bool{stale: false, aside: false, live: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	CleanTemp(parent)
	if _, err := os.Stat(tmp); err == nil {
		t.Error("a dead process's temp file was kept")
	}
}

// A final folder that is a symbolic link gets the set in the folder it
// leads to and stays a link; swapping the link itself put a real folder in
// its place and left the target as it was (issue 29, case 9).
func TestStagedDirFollowsLink(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "real", "target")
	os.MkdirAll(filepath.Dir(target), 0o755)
	link := filepath.Join(parent, "out")
	if err := os.Symlink("real/target", link); err != nil { // relative, and to a folder not made yet
		t.Fatal(err)
	}
	for round, set := range []map[string]string{{"train.jsonl": "first"}, {"train.jsonl": "second", "export-report.json": "r"}} {
		s, err := NewStagedDir(link)
		if err != nil {
			t.Fatal(err)
		}
		writeSet(t, s.Dir, set)
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("round %d: %s is no longer a link (%v)", round, link, err)
		}
		if got := readSet(target); len(got) != len(set) || got["train.jsonl"] != set["train.jsonl"] {
			t.Errorf("round %d: target holds %v, want %v", round, got, set)
		}
		if m, _ := filepath.Glob(filepath.Join(parent, "*", ".*staging*")); len(m) != 0 {
			t.Errorf("round %d: staging left: %v", round, m)
		}
	}
	loop := filepath.Join(parent, "loop")
	os.Symlink("loop", loop)
	if _, err := NewStagedDir(loop); err == nil {
		t.Error("a link to itself was accepted")
	}
}
