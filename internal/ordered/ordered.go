// Package ordered runs work on a bounded number of goroutines and hands the
// results on in input order: the shape of every streaming stage here (read
// records, work on them in parallel, write them in the order they came).
package ordered

import (
	"context"
	"iter"

	"golang.org/x/sync/errgroup"
)

// Map calls work on every item of in with the given number of workers and
// out with each result, in input order, on a single goroutine. At most
// window items are read ahead of out (default and minimum: 4 per worker),
// so memory stays bounded however long in is. worker is the index of the
// calling worker, for per-worker state.
//
// The first error from in or out stops everything and is returned; so is
// ctx's error when it is cancelled. work has no error of its own: put
// failures in R.
func Map[T, R any](ctx context.Context, workers, window int, in iter.Seq2[T, error],
	work func(ctx context.Context, worker int, item T) R, out func(R) error) error {
	workers = max(workers, 1)
	window = max(window, 4*workers)
	type job struct {
		item T
		res  chan R
	}
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan *job)
	order := make(chan *job, window)
	g.Go(func() error {
		defer close(jobs)
		defer close(order)
		for item, err := range in {
			if err != nil {
				return err
			}
			j := &job{item: item, res: make(chan R, 1)}
			select {
			case order <- j: // reserves the item's place in the output
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case jobs <- j:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := range workers {
		g.Go(func() error {
			for j := range jobs {
				j.res <- work(gctx, w, j.item)
			}
			return nil
		})
	}
	g.Go(func() error {
		for j := range order {
			select {
			case r := <-j.res:
				if err := out(r); err != nil {
					return err
				}
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}
