package ordered

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

func count(n int, failAt int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if i == failAt {
				yield(0, errors.New("bad input"))
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

func TestMap(t *testing.T) {
	for _, tc := range []struct {
		name             string
		n, workers, fail int
		outFailAt        int
		wantErr          string
		wantOut          int
	}{
		{"in order, 1 worker", 200, 1, -1, -1, "", 200},
		{"in order, 4 workers", 2000, 4, -1, -1, "", 2000},
		{"empty", 0, 3, -1, -1, "", 0},
		{"input error", 500, 4, 300, -1, "bad input", -1},
		{"output error", 500, 4, -1, 100, "disk full", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inFlight, peak atomic.Int64
			got := 0
			err := Map(context.Background(), tc.workers, 0, count(tc.n, tc.fail),
				func(_ context.Context, w int, i int) int {
					if w < 0 || w >= tc.workers {
						t.Errorf("worker index %d", w)
					}
					if v := inFlight.Add(1); v > peak.Load() {
						peak.Store(v)
					}
					time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
					inFlight.Add(-1)
					return i * 2
				},
				func(r int) error {
					if got == tc.outFailAt {
						return errors.New("disk full")
					}
					if r != got*2 {
						t.Fatalf("result %d out of order: got %d, want %d", got, r, got*2)
					}
					got++
					return nil
				})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantOut >= 0 && got != tc.wantOut {
				t.Errorf("%d results, want %d", got, tc.wantOut)
			}
			if peak.Load() > int64(tc.workers) {
				t.Errorf("%d items in work at once, with %d workers", peak.Load(), tc.workers)
			}
		})
	}
}

// The input is read at most window items ahead of the output, and a
// cancelled context stops everything.
func TestMapWindowAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var read atomic.Int64
	in := func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			read.Add(1)
			if !yield(i, nil) {
				return
			}
		}
	}
	written := 0
	err := Map(ctx, 2, 16, in, func(_ context.Context, _ int, i int) int { return i }, func(int) error {
		written++
		if ahead := read.Load() - int64(written); ahead > 16+2+2 {
			t.Errorf("%d items read ahead of the output, window 16", ahead)
		}
		if written == 1000 {
			cancel()
		}
		time.Sleep(10 * time.Microsecond)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
