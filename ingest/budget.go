package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	// RunMemoryMB caps the memory all the documents read at once take
	// together, whatever the number of workers (0: no limit); Run makes
	// its Pool.
	RunMemoryMB int
	// Pool, when set, is that memory (see Pool).
	Pool *Pool
}

// Pool is the memory that all the documents being read at once may take
// together, whatever the number of workers: the bytes a document holds
// (its file) and every charge to its budget are taken from it. A document
// whose charge would pass it waits until others finish, except the first
// of them in the run's order, which goes on (its own budget still bounds
// it): results are written in that order, so it is the one all the others
// wait for, and none waits forever. A nil Pool has no limit.
type Pool struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	peak    int64
	docs    []*Budget // the documents holding or waiting for memory
	changed chan struct{}
}

// NewPool is a pool of mb megabytes (0: no limit, nil).
func NewPool(mb int) *Pool {
	if mb <= 0 {
		return nil
	}
	return &Pool{limit: int64(mb) << 20, changed: make(chan struct{})}
}

// Peak is the most the pool's documents held at once.
func (p *Pool) Peak() int64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// take charges n bytes to b's share, waiting while the pool is full and b
// is not the first document.
func (p *Pool) take(ctx context.Context, b *Budget, n int64) error {
	if p == nil || n <= 0 {
		return nil
	}
	for {
		p.mu.Lock()
		if b.released {
			p.mu.Unlock()
			return nil // an extractor still running after its document ended
		}
		if !b.inPool {
			p.docs = append(p.docs, b)
			b.inPool = true
		}
		if p.used+n <= p.limit || p.first() == b {
			p.used += n
			b.held += n
			p.peak = max(p.peak, p.used)
			p.mu.Unlock()
			return nil
		}
		ch := p.changed
		p.mu.Unlock()
		b.clock.wait()
		select {
		case <-ch:
			b.clock.run()
		case <-ctx.Done():
			b.clock.run()
			return ctx.Err()
		}
	}
}

// first is the document first in the run's order.
func (p *Pool) first() *Budget {
	f := p.docs[0]
	for _, d := range p.docs[1:] {
		if d.seq < f.seq {
			f = d
		}
	}
	return f
}

// refund gives back n of what b holds.
func (p *Pool) refund(b *Budget, n int64) { p.giveBack(b, n, false) }

// release gives back all b holds; b leaves the pool.
func (p *Pool) release(b *Budget) { p.giveBack(b, 0, true) }

func (p *Pool) giveBack(b *Budget, n int64, all bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if b.released {
		return
	}
	if all || n > b.held {
		n = b.held
	}
	p.used -= n
	b.held -= n
	if all {
		b.released = true
		for i, d := range p.docs {
			if d == b {
				p.docs = append(p.docs[:i], p.docs[i+1:]...)
				break
			}
		}
	}
	close(p.changed)
	p.changed = make(chan struct{})
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
	// A chat log's record while it is decoded: a 43 MB log of 178,000
	// short conversations held 363 MB of heap as a JSON array, 260 MB as
	// JSON Lines, when its examples were all held decoded. They are held
	// encoded now, charged as they are (about 1.3 bytes a byte).
	chatCost = 8
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
	pool   *Pool
	lim    Limits
	seq    int       // the document's place in the run
	clock  *docClock // nil: no time limit
	// held is what the document took from the pool; guarded by pool.mu.
	held             int64
	inPool, released bool
}

// ErrBudget is wrapped by every error of a document over its budget.
var ErrBudget = errors.New("over budget")

// NewBudget starts the budget of a document of size bytes (see Admit and
// Start). Its cancel function gives what it took back to the pool.
func NewBudget(ctx context.Context, size int64, lim Limits) (*Budget, context.CancelFunc) {
	b := Admit(ctx, 0, size, lim)
	cancel := b.Start(ctx, size)
	return b, func() {
		cancel()
		b.Release()
	}
}

// Admit is the budget of the run's document number seq, whose file holds
// n bytes, once the pool has room for them (it waits, before the
// document's time starts). Its time starts with Start; Release gives its
// memory back.
func Admit(ctx context.Context, seq int, n int64, lim Limits) *Budget {
	b := &Budget{ctx: ctx, limit: int64(lim.MemoryMB) << 20, pool: lim.Pool, lim: lim, seq: seq}
	b.left.Store(b.limit)
	b.memory = fmt.Sprintf("memory budget of %d MB (raise it with --doc-memory-mb or ingest: doc_memory_mb)", lim.MemoryMB)
	b.pool.take(ctx, b, n) // a cancelled run is seen by Err
	return b
}

// Start starts the document's time: TimePerMB for each MB of its size, at
// least minDocTime. The time stops while the document waits for room in
// the pool (other documents' memory is not its slowness).
func (b *Budget) Start(ctx context.Context, size int64) context.CancelFunc {
	lim := b.lim
	if lim.TimePerMB <= 0 {
		c, cancel := context.WithCancel(ctx)
		b.ctx = c
		return cancel
	}
	d := max(minDocTime, time.Duration(float64(lim.TimePerMB)*float64(size)/(1<<20)))
	shown := d.Round(time.Second)
	if d < time.Second {
		shown = d.Round(time.Millisecond)
	}
	b.what = fmt.Sprintf("time budget of %s for %.1f MB (%s per MB, at least %s; raise it with --doc-time-per-mb or ingest: doc_time_per_mb)",
		shown, float64(size)/(1<<20), lim.TimePerMB, minDocTime)
	c, cancel := context.WithCancelCause(ctx)
	b.ctx = c
	b.clock = &docClock{left: d, since: time.Now()}
	b.clock.timer = time.AfterFunc(d, func() { cancel(errTimeBudget) })
	return func() {
		b.clock.timer.Stop()
		cancel(context.Canceled)
	}
}

// docClock is a document's time left, stopped while it waits for memory.
type docClock struct {
	mu      sync.Mutex
	waiting int // the document's goroutines waiting for the pool
	paused  bool
	left    time.Duration
	since   time.Time // when the clock last started
	timer   *time.Timer
}

// wait stops the clock (the first of the document's waiters does).
func (c *docClock) wait() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting++; c.waiting == 1 && c.timer.Stop() { // false: the time is up
		c.left -= time.Since(c.since)
		c.paused = true
	}
}

// run starts it again (the last waiter does).
func (c *docClock) run() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting--; c.waiting == 0 && c.paused {
		c.paused = false
		c.since = time.Now()
		c.timer.Reset(max(c.left, 0))
	}
}

// Release gives back to the pool all the document took.
func (b *Budget) Release() {
	if b != nil {
		b.pool.release(b)
	}
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
	if err := b.Err(); err != nil {
		return err
	}
	if err := b.pool.take(b.ctx, b, n); err != nil {
		return b.Err()
	}
	return nil
}

// Refund gives back n bytes charged for memory that is free again (a
// record decoded and encoded again), to the budget and to the pool.
func (b *Budget) Refund(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.left.Add(n)
	b.pool.refund(b, n)
}

// Hold takes n bytes the document holds outside its budget (the file
// read) from the pool, waiting for room as Charge does.
func (b *Budget) Hold(n int64) error {
	if b == nil {
		return nil
	}
	if err := b.pool.take(b.ctx, b, n); err != nil {
		return b.Err()
	}
	return nil
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
