package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/bucket"
	"github.com/tuneline/tuneline/internal/testenv"
)

// The cluster's ingest: each of three machines ingests its part of a
// bucket's prefix into an object of the output bucket; the three objects
// hold the chunks of one ingest, each chunk with its gs:// source.
func TestShardedIngestBucketToBucket(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	testenv.FakeGCS(t, "corpus", "out")
	bucket.Reset()
	ctx := context.Background()
	subs := testenv.Corpus("subtitles", "webvtt-py", "tests", "subtitles")
	entries, err := os.ReadDir(subs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(subs + "/" + e.Name())
		if err := bucket.Put(ctx, "gs://corpus/subs/"+e.Name(), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(u string) []string {
		r, _, err := bucket.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, _ := io.ReadAll(r)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) == 0 {
			return nil
		}
		return lines
	}
	if code, _, errOut := run(t, "ingest", "-q", "--out", "gs://out/all.jsonl", "gs://corpus/subs/"); code != ExitOK && code != ExitFailure {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	all := read("gs://out/all.jsonl")
	var parts []string
	for k := range 3 {
		u := fmt.Sprintf("gs://out/chunks-%d-of-3.jsonl", k)
		if code, _, errOut := run(t, "ingest", "-q", "--shard", fmt.Sprintf("%d/3", k), "--out", u, "gs://corpus/subs/"); code != ExitOK && code != ExitFailure {
			t.Fatalf("ingest part %d: exit %d\n%s", k, code, errOut)
		}
		p := read(u)
		if len(p) == len(all) {
			t.Errorf("part %d has every chunk", k)
		}
		parts = append(parts, p...)
	}
	slices.Sort(all)
	slices.Sort(parts)
	if len(all) < 10 || !slices.Equal(all, parts) {
		t.Errorf("one ingest %d chunks, three parts %d", len(all), len(parts))
	}
	for _, l := range all {
		if !strings.Contains(l, `"source":"gs://corpus/subs/`) {
			t.Errorf("chunk without its gs:// source: %.200s", l)
		}
	}
	// A bad output address is a usage error, before any work.
	if code, _, _ := run(t, "ingest", "--out", "gs:///x.jsonl", "gs://corpus/subs/"); code != ExitUsage {
		t.Errorf("gs:///x.jsonl: exit %d, want %d", code, ExitUsage)
	}
}
