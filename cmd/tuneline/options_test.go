package main

import (
	"slices"
	"testing"

	"github.com/tuneline/tuneline/ingest"
)

// TestOptionsWithoutRunning: ingest's, export's, validate's and chat's
// flags and arguments reach their options through the runF hook, with the
// stage's defaults where no flag is given; nothing runs.
func TestOptionsWithoutRunning(t *testing.T) {
	t.Run("ingest", func(t *testing.T) {
		o := parseOnly(t, newIngestCmd, "--out", "c.jsonl", "--shard", "1/3", "--chunk-tokens", "300", "--json", "a.pdf", "b/")
		if o.Out != "c.jsonl" || o.Shard != "1/3" || o.ChunkTokens != 300 || !o.JSON || !slices.Equal(o.Sources, []string{"a.pdf", "b/"}) {
			t.Errorf("options %+v", o)
		}
		d := ingest.DefaultConfig()
		if o := parseOnly(t, newIngestCmd, "a.pdf"); o.Config != d || o.Out != "-" || o.Emit != "chunks" {
			t.Errorf("no flags: config %+v out %q emit %q, want the defaults %+v", o.Config, o.Out, o.Emit, d)
		}
	})
	t.Run("export", func(t *testing.T) {
		o := parseOnly(t, newExportCmd, "--format", "sharegpt", "--out", "dir", "--name", "physics", "x.jsonl")
		if o.Target != "sharegpt" || o.OutDir != "dir" || o.Name != "physics" || !slices.Equal(o.Files, []string{"x.jsonl"}) {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("validate", func(t *testing.T) {
		o := parseOnly(t, newValidateCmd, "--max-tokens", "2048", "--warnings", "a.jsonl", "b.jsonl")
		if o.MaxTokens != 2048 || !o.Warnings || !slices.Equal(o.Files, []string{"a.jsonl", "b.jsonl"}) {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("repeated flags are not split on commas", func(t *testing.T) {
		o := parseOnly(t, newCurateCmd, "--chunks", "part,1.jsonl", "--chunks", "b.jsonl", "ex.jsonl")
		if !slices.Equal(o.ChunkFiles.Value(), []string{"part,1.jsonl", "b.jsonl"}) {
			t.Errorf("--chunks %q, want the two files as given", o.ChunkFiles.Value())
		}
		m := parseOnly(t, newModelfileCmd, "--param", "stop=a,b", "--from", "llama3")
		if !slices.Equal(m.Params.Value(), []string{"stop=a,b"}) {
			t.Errorf("--param %q, want one", m.Params.Value())
		}
	})
	t.Run("chat", func(t *testing.T) {
		o := parseOnly(t, newChatCmd, "--ask", "why?", "--recall", "3", "physics-prof")
		if o.Model != "physics-prof" || o.Ask != "why?" || o.Recall != 3 {
			t.Errorf("options %+v", o)
		}
	})
}
