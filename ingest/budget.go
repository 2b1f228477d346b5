package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Limits bound the work on one document: a hostile or broken file ends
// with an error naming it while the run goes on.
type Limits struct {
	// TimePerMB is the time a document may take per MB of its size, at
	// least 10 s (0: no time limit).
	TimePerMB time.Duration
	// MemoryMB caps the memory the extractors account for one document:
	// decompressed streams, glyphs, parsed markup (0: no limit).
	MemoryMB int
}

// minDocTime is the least time any document is given (tests lower it).
var minDocTime = 10 * time.Second

// Bytes of memory charged per byte of input. HTML: a 10.6 MB page of
// 150,000 paragraphs peaked at 737 MB RSS through ingest and chunking
// (about 70x), so at 48x the default budget takes pages up to 10.7 MB.
// The others are estimates: a DOCX's or EPUB's XML read as a stream (and
// EPUB chapters into small trees), text held a few times over.
const (
	htmlCost      = 48
	containerCost = 12
	textCost      = 4
)

// Budget is what one document may still use. Its methods are safe for
// concurrent use (PDF pages are read in parallel); a nil Budget allows
// everything.
type Budget struct {
	ctx    context.Context
	limit  int64
	left   atomic.Int64
	over   atomic.Bool
	what   string // "time budget of ..." for the message
	memory string
}

// ErrBudget is wrapped by every error of a document over its budget.
var ErrBudget = errors.New("over budget")

// NewBudget starts the budget of a document of size bytes.
func NewBudget(ctx context.Context, size int64, lim Limits) (*Budget, context.CancelFunc) {
	b := &Budget{limit: int64(lim.MemoryMB) << 20}
	b.left.Store(b.limit)
	b.memory = fmt.Sprintf("memory budget of %d MB (raise it with --doc-memory-mb or ingest: doc_memory_mb)", lim.MemoryMB)
	if lim.TimePerMB <= 0 {
		c, cancel := context.WithCancel(ctx)
		b.ctx = c
		return b, cancel
	}
	d := max(minDocTime, time.Duration(float64(lim.TimePerMB)*float64(size)/(1<<20)))
	shown := d.Round(time.Second)
	if d < time.Second {
		shown = d.Round(time.Millisecond)
	}
	b.what = fmt.Sprintf("time budget of %s for %.1f MB (%s per MB, at least %s; raise it with --doc-time-per-mb or ingest: doc_time_per_mb)",
		shown, float64(size)/(1<<20), lim.TimePerMB, minDocTime)
	c, cancel := context.WithTimeoutCause(ctx, d, errTimeBudget)
	b.ctx = c
	return b, cancel
}

var errTimeBudget = errors.New("time budget")

// Charge accounts n more bytes of memory (0 only checks) and tells whether
// the document may go on.
func (b *Budget) Charge(n int64) error {
	if b == nil {
		return nil
	}
	if b.limit > 0 && b.left.Add(-n) < 0 {
		b.over.Store(true)
	}
	return b.Err()
}

// Err is the reason the document must stop, nil while it may go on.
func (b *Budget) Err() error {
	if b == nil {
		return nil
	}
	if b.over.Load() {
		return fmt.Errorf("%w: the document needs more than its %s", ErrBudget, b.memory)
	}
	if b.ctx.Err() != nil {
		if context.Cause(b.ctx) == errTimeBudget {
			return fmt.Errorf("%w: the document took longer than its %s", ErrBudget, b.what)
		}
		return b.ctx.Err()
	}
	return nil
}

// Done is closed when the time is up or the run is cancelled.
func (b *Budget) Done() <-chan struct{} { return b.ctx.Done() }

// within runs extract and returns its result, or the budget's error as
// soon as the time is up: extractors that check the budget stop soon
// after; the others (linear in their input) finish in the background and
// their result is dropped.
func within(b *Budget, extract func() (*Document, error)) (*Document, error) {
	type res struct {
		d   *Document
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if rec := recover(); rec != nil {
				ch <- res{nil, fmt.Errorf("internal error while extracting: %v", rec)}
			}
		}()
		d, err := extract()
		ch <- res{d, err}
	}()
	select {
	case r := <-ch:
		if err := b.Err(); err != nil {
			return nil, err // the extractor's own error, if any, came from it
		}
		return r.d, r.err
	case <-b.Done():
		return nil, b.Err()
	}
}
