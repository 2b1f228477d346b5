package format

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/ordered"
	"github.com/tuneline/tuneline/tokens"
)

// ScanOptions configure Scan.
type ScanOptions struct {
	MaxTokens int
	// Workers is the number of goroutines decoding and checking records
	// (default: GOMAXPROCS).
	Workers int
	// Prepare, when set, runs in the workers on every checked example after
	// the checks (for per-example work that keeps no state, such as dedup
	// signatures or encoding for export).
	Prepare func(c *Checked, w *WorkerState)
	// Norm asks for every example's normalised pieces in WorkerState.Norm
	// (for Prepare), computed in the same pass as the token counts.
	Norm bool
	// Progress, when set, is called with the bytes read so far.
	Progress func(bytes int64)
	// Review, when set, applies a person's decision to each decoded
	// example before the checks (an edit replaces its messages) and
	// returns its state, kept in Checked.Review (see review.Set.Apply).
	Review func(ex *datasets.Example) string
}

// WorkerState is per-worker scratch space handed to Prepare.
type WorkerState struct {
	Tokens *tokens.Counter
	Norm   Norm
}

const batchSize = 512

// batchPool holds the *[]Checked of finished batches (a pointer: a slice
// put as an interface would be allocated).
var batchPool sync.Pool

// Scan reads the files in order, decodes and checks their records on several
// workers, and calls fn with every checked record in input order, on the
// calling goroutine. A file that cannot be read is an error; bad records are
// not (they come back as Checked with Valid false). fn must not keep the
// *Checked it is given after it returns.
func Scan(ctx context.Context, files []string, opt ScanOptions, fn func(*Checked) error) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	states := make([]*WorkerState, workers)
	for w := range states {
		states[w] = &WorkerState{Tokens: tokens.NewCounter()}
	}
	// Records go to the workers in batches, to keep the hand-over cheap.
	batches := func(yield func([]datasets.Raw, error) bool) {
		var read int64
		var b []datasets.Raw
		for _, f := range files {
			for raw, err := range datasets.RawFile(ctx, f) {
				// A record over the limit is refused as the others that
				// cannot be read are, and the rest is read: validate
				// reported nothing of the good files beside it.
				var tl *datasets.TooLongError
				if errors.As(err, &tl) {
					raw, err = tl.Refused(), nil
				}
				if err != nil {
					yield(nil, err)
					return
				}
				read += int64(len(raw.Data)) + 1
				b = append(b, raw)
				if len(b) == batchSize {
					if opt.Progress != nil {
						opt.Progress(read)
					}
					if !yield(b, nil) {
						return
					}
					b = nil
				}
			}
		}
		if len(b) > 0 && !yield(b, nil) {
			return
		}
		if opt.Progress != nil {
			opt.Progress(read)
		}
	}
	check1 := func(_ context.Context, w int, raws []datasets.Raw) []Checked {
		ws := states[w]
		var norm *Norm
		if opt.Norm {
			norm = &ws.Norm
		}
		var out []Checked
		if p, ok := batchPool.Get().(*[]Checked); ok {
			out = *p
		}
		if cap(out) < len(raws) {
			out = make([]Checked, len(raws))
		}
		out = out[:len(raws)]
		for i, raw := range raws {
			rec, state := raw.Decode(), ""
			if opt.Review != nil && rec.Err == nil {
				state = opt.Review(&rec.Example)
			}
			out[i] = check(rec, ws.Tokens, opt.MaxTokens, norm)
			out[i].Review = state
			if opt.Prepare != nil {
				opt.Prepare(&out[i], ws)
			}
		}
		return out
	}
	err := ordered.Map(ctx, workers, 6*workers, batches, check1, func(out []Checked) error {
		for i := range out {
			if err := fn(&out[i]); err != nil {
				return err
			}
		}
		// fn keeps no *Checked (it must not), so the batch's slice is
		// reused: about 200 KB a batch of pointerful memory not allocated
		// and swept again.
		clear(out)
		batchPool.Put(&out)
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

// Validate checks every record of files and returns the summary.
func Validate(ctx context.Context, files []string, opt ScanOptions) (Summary, error) {
	t := NewTally(opt.MaxTokens)
	t.S.Files = append(t.S.Files, files...)
	k := NewChecker(opt.MaxTokens)
	err := Scan(ctx, files, opt, func(c *Checked) error {
		k.Seen(c)
		t.Add(c)
		return nil
	})
	return t.Finish(), err
}
