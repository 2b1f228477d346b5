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
	"time"
)

// A local .gz is inflated only up to the document's memory budget: at
// --doc-memory-mb 100, four that inflate to 200 MB took 2.9 GB before the
// budget was looked at (issue 29, case 5, the part about gzip). Here one
// that inflates to 100 MB at a budget of 10 MB, checked by what was
// allocated: reading it whole allocates well over 100 MB, reading up to the
// budget about twice the budget (more under -race: 44 MiB seen), so the
// bound of 64 MiB tells the two apart on every build.
func TestGzipInflationWithinBudget(t *testing.T) {
	big := writeGz(t, "big.txt.gz", 100<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := load(context.Background(), big, Options{MaxBytes: 200 << 20, Limits: Limits{MemoryMB: 10}})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "inflates to more than its memory budget of 10 MB") {
		t.Errorf("%v, want it over its budget", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20 {
		t.Errorf("allocated %d MiB inflating it", a>>20)
	}
	// within the budget it is read
	small := writeGz(t, "small.txt.gz", 15<<20)
	b, _, err := load(context.Background(), small, Options{MaxBytes: 200 << 20, Limits: Limits{MemoryMB: 20}})
	if err != nil || len(b) < 14<<20 {
		t.Errorf("%d bytes, %v", len(b), err)
	}
}

// writeGz writes a gzip file that inflates to about n bytes of text.
func writeGz(t *testing.T, name string, n int) string {
	t.Helper()
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	line := []byte(strings.Repeat("All work and no play. ", 40) + "\n")
	for range n / len(line) {
		zw.Write(line)
	}
	zw.Close()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// What a .gz inflates to is taken from the run's memory before each buffer
// is made, not after the file is read (four 200 MB inflations at once took
// 1.46 GB at the defaults): with the pool held by the first document, the
// second's inflation waits until it is released, then finishes.
func TestGzipInflationTakenFromPool(t *testing.T) {
	gz := writeGz(t, "doc.txt.gz", 8<<20)
	ctx := context.Background()
	lim := Limits{Pool: NewPool(10)}
	b0 := Admit(ctx, 0, 9<<20, lim) // the first document holds the pool
	b1 := Admit(ctx, 1, 0, lim)
	opt := Options{MaxBytes: 200 << 20, inflating: &inflateHold{hold: b1.Hold}}
	done := make(chan error, 1)
	go func() { _, _, err := load(ctx, gz, opt); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("the .gz was inflated with the pool full (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	b0.Release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the inflation never went on once the pool had room")
	}
	if opt.inflating.n < 8<<20 {
		t.Errorf("%d bytes held for an 8 MB inflation", opt.inflating.n)
	}
	b1.Release()
}
