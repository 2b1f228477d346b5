package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

// requestIDs reads a batch file's custom_ids, checking each line's shape.
func requestIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l struct {
			CustomID string `json:"custom_id"`
			Method   string `json:"method"`
			URL      string `json:"url"`
			Body     struct {
				Model          string            `json:"model"`
				Messages       []json.RawMessage `json:"messages"`
				ResponseFormat struct {
					Type       string `json:"type"`
					JSONSchema struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"json_schema"`
				} `json:"response_format"`
				MaxTokens int `json:"max_tokens"`
			} `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		b := l.Body
		if !strings.HasPrefix(l.CustomID, "tl-") || l.Method != "POST" || l.URL != "/v1/chat/completions" || b.Model != "m" || len(b.Messages) != 2 || b.ResponseFormat.Type != "json_schema" ||
			len(b.ResponseFormat.JSONSchema.Schema) == 0 || b.MaxTokens == 0 {
			t.Errorf("%s: request line %.300s", path, sc.Text())
		}
		ids = append(ids, l.CustomID)
	}
	return ids
}

// ingest --shard K/3 for K = 0..2 gives the chunks of one ingest, and
// synth reads the three parts as one: its batch file holds the same
// requests as one of the whole (no server is asked). A part with no
// source is a successful, empty run.
func TestShardedIngestSynthBatchOut(t *testing.T) {
	dir := t.TempDir()
	src := testenv.Corpus("subtitles")
	if code, _, errOut := run(t, "ingest", "-q", "--out", filepath.Join(dir, "all.jsonl"), src); code != ExitOK {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	var parts []string
	for k := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("chunks-%d.jsonl", k))
		if code, _, errOut := run(t, "ingest", "-q", "--shard", fmt.Sprintf("%d/3", k), "--out", p, src); code != ExitOK {
			t.Fatalf("ingest part %d: exit %d\n%s", k, code, errOut)
		}
		parts = append(parts, p)
	}
	synth := func(out string, chunks ...string) []string {
		args := append([]string{"synth", "--model", "m", "--persona", "../../synth/testdata/persona.yaml", "--cache", filepath.Join(dir, "cache"),
			"--pairs", "1", "--batch-out", out, "--out", filepath.Join(dir, "ex.jsonl")}, chunks...)
		code, _, errOut := run(t, args...)
		if code != ExitOK || !strings.Contains(errOut, "written to "+out) || !strings.Contains(errOut, "run_batch -i "+out) {
			t.Fatalf("synth: exit %d\n%s", code, errOut)
		}
		return requestIDs(t, out)
	}
	whole, split := synth(filepath.Join(dir, "whole.jsonl"), filepath.Join(dir, "all.jsonl")), synth(filepath.Join(dir, "split.jsonl"), parts...)
	slices.Sort(whole)
	slices.Sort(split)
	if len(whole) == 0 || !slices.Equal(whole, split) || len(slices.Compact(slices.Clone(whole))) != len(whole) {
		t.Errorf("requests of one ingest %d, of three parts %d (or ids not unique)", len(whole), len(split))
	}

	one := testenv.Corpus("office", "glaciers.docx")
	empties := 0
	for k := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("one-%d.jsonl", k))
		code, _, errOut := run(t, "ingest", "-q", "--shard", fmt.Sprintf("%d/3", k), "--out", p, one)
		b, err := os.ReadFile(p)
		if code != ExitOK || err != nil {
			t.Fatalf("part %d of one source: exit %d, %v\n%s", k, code, err, errOut)
		}
		if len(b) == 0 {
			empties++
		}
	}
	if empties != 2 {
		t.Errorf("%d empty parts of one source, want 2", empties)
	}
	if code, _, errOut := run(t, "ingest", "--shard", "3/3", one); code != ExitUsage || !strings.Contains(errOut, "0 <= K < N") {
		t.Errorf("--shard 3/3: exit %d\n%s", code, errOut)
	}
}
