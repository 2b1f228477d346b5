package format

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/tuneline/tuneline/datasets"
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
}

// WorkerState is per-worker scratch space handed to Prepare.
type WorkerState struct {
	Tokens *tokens.Counter
	Norm   Norm
}

const batchSize = 512

type batch struct {
	raws []datasets.Raw
	out  []Checked
	done chan struct{}
}

// Scan reads the files in order, decodes and checks their records on several
// workers, and calls fn with every checked record in input order, on the
// calling goroutine. A file that cannot be read is an error; bad records are
// not (they come back as Checked with Valid false).
func Scan(ctx context.Context, files []string, opt ScanOptions, fn func(*Checked) error) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan *batch, workers*2)
	ordered := make(chan *batch, workers*4)

	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		var read int64
		b := &batch{done: make(chan struct{})}
		send := func() error {
			select {
			case work <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = &batch{done: make(chan struct{})}
			return nil
		}
		for _, f := range files {
			for raw, err := range datasets.RawFile(ctx, f) {
				if err != nil {
					return err
				}
				read += int64(len(raw.Data)) + 1
				b.raws = append(b.raws, raw)
				if len(b.raws) == batchSize {
					if opt.Progress != nil {
						opt.Progress(read)
					}
					if err := send(); err != nil {
						return err
					}
				}
			}
		}
		if len(b.raws) > 0 {
			if err := send(); err != nil {
				return err
			}
		}
		if opt.Progress != nil {
			opt.Progress(read)
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			ws := &WorkerState{Tokens: tokens.NewCounter()}
			for b := range work {
				b.out = make([]Checked, len(b.raws))
				for i, raw := range b.raws {
					var norm *Norm
					if opt.Norm {
						norm = &ws.Norm
					}
					b.out[i] = check(raw.Decode(), ws.Tokens, opt.MaxTokens, norm)
					if opt.Prepare != nil {
						opt.Prepare(&b.out[i], ws)
					}
				}
				b.raws = nil
				close(b.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			for i := range b.out {
				if err := fn(&b.out[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
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
