package ingest

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flatePages builds a PDF of n pages, each a Flate content stream of
// about mb MB of one-glyph text operators.
func flatePages(n int, mb float64) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	var raw bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&raw, zlib.BestSpeed)
	zw.Write([]byte("BT /F1 12 Tf 72 712 Td\n"))
	op := []byte("(x) Tj\n")
	for range int(mb * (1 << 20) / float64(len(op))) {
		zw.Write(op)
	}
	zw.Write([]byte("ET\n"))
	zw.Close()
	stream := fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", raw.Len(), raw.Bytes())
	font := len(objs) + 1
	objs = append(objs, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for range n {
		page := len(objs) + 1
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", font, page+1), stream)
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	return buildPDF(objs, 0)
}

// peakHeap samples the live heap until stop is called and returns its peak.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// Documents over their budget end with an error that names the budget,
// within the time and memory the issue allows (30 s, 1 GiB), and the
// sources after them are ingested.
func TestDocumentBudgets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 40 MB of PDF operators")
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sound := write("notes.md", []byte("# Notes\n\nThe run goes on after a bad document.\n"))
	geotopo, err := os.ReadFile("../testdata/corpora/pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf")
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile("../testdata/corpora/html-articles/html/ef4e67b66d63b5facef55c06a94d85f2ae01a0a1a4a3a1bcfe2499c8c8a7dacf.html.gz")
	if err != nil {
		t.Fatal(err)
	}
	defaults := DefaultConfig()
	for _, tt := range []struct {
		name    string
		file    []byte
		ext     string
		lim     Limits
		minTime time.Duration
		want    string
	}{
		// one page of 28 MB of operators: 4 million glyphs at once (with
		// the race detector the time budget can end it first)
		{"glyphs of one page", flatePages(1, 28), ".pdf", Limits{TimePerMB: defaults.DocTimePerMB, MemoryMB: defaults.DocMemoryMB}, 10 * time.Second, "budget of"},
		// 40 pages of 1.5 MB, each well within the per-stream cap: the
		// document's decompressed bytes are what the budget stops
		{"decompressed bytes of the document", flatePages(40, 1.5), ".pdf", Limits{TimePerMB: defaults.DocTimePerMB, MemoryMB: 32}, 10 * time.Second, "memory budget of 32 MB"},
		{"a PDF past its time", geotopo, ".pdf", Limits{TimePerMB: time.Microsecond, MemoryMB: defaults.DocMemoryMB}, 20 * time.Millisecond, "longer than its time budget"},
		{"a page past its time", html, ".html.gz", Limits{TimePerMB: time.Microsecond, MemoryMB: defaults.DocMemoryMB}, 20 * time.Millisecond, "longer than its time budget"},
		{"markup over the memory budget", html, ".html.gz", Limits{TimePerMB: defaults.DocTimePerMB, MemoryMB: 1}, 10 * time.Second, "memory budget of 1 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(old time.Duration) { minDocTime = old }(minDocTime)
			minDocTime = tt.minTime
			bad := write("bad"+tt.ext, tt.file)
			runtime.GC() // the peak is of this case's heap alone
			stop := peakHeap()
			start := time.Now()
			sum, out := run(t, Options{Chunk: ChunkOptions{Target: 512}, Workers: 1, Limits: tt.lim}, bad, sound)
			took, peak := time.Since(start), stop()
			if e := sum.Errors[bad]; !strings.Contains(e, tt.want) {
				t.Errorf("error %q, want it to say %q", e, tt.want)
			}
			if sum.Documents != 1 || len(out.chunks) == 0 || out.chunks[0].Source != sound {
				t.Errorf("the next source was not ingested: %+v", sum)
			}
			if took > 30*time.Second || peak > 1<<30 {
				t.Errorf("took %v and %d MB of heap, want at most 30 s and 1024 MB", took, peak>>20)
			}
			t.Logf("%s: %v, peak heap %d MB: %s", tt.name, took.Round(time.Millisecond), peak>>20, sum.Errors[bad])
		})
	}
}

// A document's time budget ends an extractor that does not check it (the
// HTML one) as soon as the time is up.
func TestTimeBudgetReturnsAtOnce(t *testing.T) {
	defer func(old time.Duration) { minDocTime = old }(minDocTime)
	minDocTime = 50 * time.Millisecond
	bud, cancel := NewBudget(context.Background(), 1, Limits{TimePerMB: time.Second})
	defer cancel()
	start := time.Now()
	release := make(chan struct{})
	defer close(release)
	_, err := within(bud, func() (*Document, error) { <-release; return &Document{}, nil })
	if err == nil || !strings.Contains(err.Error(), "time budget of 50ms for 0.0 MB") || time.Since(start) > time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}
}

// A budget that allows everything, a nil one, and one given memory back.
func TestBudgetCharge(t *testing.T) {
	var none *Budget
	if none.Charge(1<<40) != nil || none.Err() != nil {
		t.Error("a nil budget refused")
	}
	b, cancel := NewBudget(context.Background(), 1, Limits{MemoryMB: 1})
	defer cancel()
	if b.Charge(1<<20) != nil || b.Charge(-1<<19) != nil || b.Charge(1<<19) != nil {
		t.Error("refused within the budget")
	}
	if err := b.Charge(1); err == nil || !strings.Contains(err.Error(), "memory budget of 1 MB") {
		t.Errorf("over the budget: %v", err)
	}
	u, cancel := NewBudget(context.Background(), 1, Limits{})
	defer cancel()
	if u.Charge(1<<40) != nil {
		t.Error("no limit refused")
	}
}
