package synth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tuneline/tuneline/datasets"
)

// The judge's source passages are found in any of several chunks files
// (the parts of a sharded ingest), each by its id and offset in its own
// file.
func TestChunkIndexSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, ids := range [][]string{{"a1", "a2"}, {"b1"}, {}} {
		var b []byte
		for _, id := range ids {
			line, _ := json.Marshal(datasets.Chunk{ID: id, DocID: "d", Source: "s.md", Kind: "markdown", Text: "text of " + id})
			b = append(append(b, line...), '\n')
		}
		p := filepath.Join(dir, "part-"+string(rune('0'+i))+".jsonl")
		os.WriteFile(p, b, 0o644)
		paths = append(paths, p)
	}
	idx, err := openChunkIndex(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.close()
	for _, id := range []string{"a1", "a2", "b1"} {
		if got := idx.text(id); got != "text of "+id {
			t.Errorf("%s: %q", id, got)
		}
	}
	if got := idx.text("c1"); got != "" {
		t.Errorf("unknown id: %q", got)
	}
	if _, err := openChunkIndex(append(paths, filepath.Join(dir, "missing.jsonl"))); err == nil {
		t.Error("a missing chunks file is no error")
	}
}
