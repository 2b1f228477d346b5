package ingest

import (
	"fmt"
	"slices"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/3", Shard{0, 3}, true}, {" 2/3 ", Shard{2, 3}, true}, {"0/1", Shard{0, 1}, true},
		{"3/3", Shard{}, false}, {"-1/3", Shard{}, false}, {"1/0", Shard{}, false}, {"1", Shard{}, false}, {"a/b", Shard{}, false}, {"", Shard{}, false},
	} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// The parts of every N partition the sources exactly, and a source's part
// depends on its name alone (golden: the hash must not change between
// versions, or the machines of one job running different builds would
// skip or repeat sources).
func TestShardPartition(t *testing.T) {
	files, _, err := Expand([]string{corpora})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "gs://bucket/books/a.pdf", "s3://bucket/books/a.pdf", "https://example.org/x", "-")
	for _, n := range []int{1, 2, 3, 7} {
		var union []string
		for k := range n {
			part := Shard{k, n}.Filter(files)
			if n > 1 && len(part) == len(files) {
				t.Errorf("%d/%d has every source", k, n)
			}
			union = append(union, part...)
		}
		slices.Sort(union)
		want := slices.Clone(files)
		slices.Sort(want)
		if !slices.Equal(union, want) {
			t.Errorf("the %d parts hold %d sources, want each of the %d once", n, len(union), len(files))
		}
	}
	golden := map[string]int{}
	for _, s := range []string{"gs://bucket/books/a.pdf", "s3://bucket/books/a.pdf", "books/a.pdf", "https://example.org/x"} {
		for k := range 3 {
			if (Shard{k, 3}).Has(s) {
				golden[s] = k
			}
		}
	}
	if got := fmt.Sprint(golden); got != goldenShards {
		t.Errorf("parts of 3 changed: %s, was %s", got, goldenShards)
	}
}

// Computed independently: int.from_bytes(sha256(name)[:8], "big") % 3.
const goldenShards = "map[books/a.pdf:1 gs://bucket/books/a.pdf:1 https://example.org/x:2 s3://bucket/books/a.pdf:0]"

// Ingesting in three parts gives the chunks of one run, and a part with no
// source is an empty, successful run.
func TestShardedIngest(t *testing.T) {
	src := corpora + "subtitles"
	_, all := run(t, Options{}, src)
	var ids []string
	for k := range 3 {
		sum, out := run(t, Options{Shard: Shard{k, 3}}, src)
		for _, c := range out.chunks {
			ids = append(ids, c.ID)
		}
		t.Logf("part %d/3: %d sources, %d chunks", k, len(sum.Sources), len(out.chunks))
	}
	var want []string
	for _, c := range all.chunks {
		want = append(want, c.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(ids, want) {
		t.Errorf("three parts gave %d chunks, one run %d", len(ids), len(want))
	}
	one := corpora + "office/glaciers.docx"
	empty := 0
	for k := range 3 {
		sum, out := run(t, Options{Shard: Shard{k, 3}}, one)
		if !(Shard{k, 3}).Has(one) {
			empty++
			if len(sum.Sources) != 0 || len(out.chunks) != 0 || len(sum.Errors) != 0 {
				t.Errorf("part %d/3 without the source: %+v", k, sum)
			}
		} else if len(out.chunks) == 0 {
			t.Errorf("part %d/3 has the source but no chunks", k)
		}
	}
	if empty != 2 {
		t.Errorf("%d parts without the one source, want 2", empty)
	}
}
