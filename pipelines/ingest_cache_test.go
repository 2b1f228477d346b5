package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A source's cache files are written unsynced (issue 29, case 17: two
// synced files a source made run's ingest 150 times slower than ingest),
// so one that a crash left empty or short is redone, not reused: a cache
// emptied by hand must not lose its source's chunks.
func TestIngestCacheCheckedNotTrusted(t *testing.T) {
	dir := workspace(t, "http://127.0.0.1:9")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Run(ctx, cfg, Options{Version: "test", Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	chunks := cfg.Layout().Chunks()
	want, err := os.ReadFile(chunks)
	if err != nil || len(want) == 0 {
		t.Fatalf("chunks: %v (%d bytes)", err, len(want))
	}
	caches, _ := filepath.Glob(filepath.Join(cfg.Layout().IngestDir(), "*.cache.jsonl"))
	if len(caches) == 0 {
		t.Fatal("no cache file")
	}
	for i, c := range caches {
		b, _ := os.ReadFile(c)
		switch i % 3 {
		case 0: // empty, as a crash before the data reached the disk leaves it
			b = nil
		case 1: // short
			b = b[:len(b)/2]
		default: // its length, zeroed
			b = make([]byte, len(b))
		}
		os.WriteFile(c, b, 0o644)
	}
	res, err := Run(ctx, cfg, Options{Version: "test", Only: "ingest", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(chunks)
	if string(got) != string(want) {
		t.Errorf("chunks after damaged caches: %d bytes, want %d (%v)", len(got), len(want), res.Stages)
	}
	if s := res.Stages[0].Summary; !strings.Contains(s, "0 unchanged") {
		t.Errorf("summary %q: every damaged cache must be redone", s)
	}
}
