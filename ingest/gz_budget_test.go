package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A local .gz is inflated only up to the document's memory budget: at
// --doc-memory-mb 100, four that inflate to 200 MB took 2.9 GB before the
// budget was looked at (issue 29, case 5, the part about gzip). Here one of
// 15 MB at a budget of 10 MB, checked by what was allocated.
func TestGzipInflationWithinBudget(t *testing.T) {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	line := []byte(strings.Repeat("All work and no play. ", 40) + "\n")
	for range (15 << 20) / len(line) {
		zw.Write(line)
	}
	zw.Close()
	path := filepath.Join(t.TempDir(), "big.txt.gz")
	os.WriteFile(path, z.Bytes(), 0o644)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := load(context.Background(), path, Options{MaxBytes: 200 << 20, Limits: Limits{MemoryMB: 10}})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "inflates to more than its memory budget of 10 MB") {
		t.Errorf("%v, want it over its budget", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 40<<20 {
		t.Errorf("allocated %d MiB inflating it", a>>20)
	}
	// within the budget it is read
	b, _, err := load(context.Background(), path, Options{MaxBytes: 200 << 20, Limits: Limits{MemoryMB: 20}})
	if err != nil || len(b) < 14<<20 {
		t.Errorf("%d bytes, %v", len(b), err)
	}
}
