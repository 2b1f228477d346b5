package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/tuneline/tuneline/internal/envconfig"
)

// Pool spreads requests over one or more servers. Each server has a level,
// the number of requests it is given at once: fixed, or (auto) measured
// while the run goes: the level starts at 1 and climbs while the tokens a
// second the server completes rise, and goes back to the best level when
// they fall or the server says it is overloaded (429, 503). A server that
// stops answering is taken out, its requests fail over to the others (the
// caller's retry sends them again), and it is probed until it answers,
// then taken back in at level 1.
//
// A Pool is a Backend: Chat waits for a server with a free slot.
type Pool struct {
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when a slot frees or a server comes back
	servers []*poolServer
	fixed   int // the level of every server; 0: auto
	reload  bool
	max     int // auto: the highest level tried
	// probeEvery is the first wait before a down server is probed; it
	// doubles up to a minute.
	probeEvery time.Duration
	// window is MeasureWindow (tests shorten it).
	window time.Duration
	model  string
	nextID uint64
	// tickets numbers the requests in the order they ask for a slot;
	// waiting holds the tickets of those waiting, in order.
	tickets   uint64
	waiting   []uint64
	closed    chan struct{}
	closeOnce sync.Once
	// now is time.Now (tests replace it).
	now func() time.Time
}

// PoolServer is one server of a Pool: its backend and its name (the host
// or base URL) for messages.
type PoolServer struct {
	Name    string
	Backend Backend
}

type poolServer struct {
	PoolServer
	level    int
	inflight int
	down     bool
	downErr  string
	sent     int
	// auto level search
	warm       bool // the first token (after the model's load) starts the first window
	settled    bool
	epochStart time.Time
	epochToks  int
	bestRate   float64
	bestLevel  int
	rates      map[int]float64 // tokens/s measured at each level
	why        string
	calls      []call // in flight, oldest first
	trial      *time.Timer
	// pending: the next level's trial starts when a request ends.
	pending bool
	// after a failed trial: checking measures the best level again;
	// reloading (no request is let in) until the model is reloaded;
	// reloaded once.
	checking, reloading, reloaded bool
}

// AutoMaxLevel is the highest level the auto search tries on one server.
const AutoMaxLevel = 16

// NewPool returns a pool of servers, each given level requests at once;
// level 0 measures each server's level (auto).
func NewPool(servers []PoolServer, level int) *Pool {
	p := &Pool{wake: make(chan struct{}), fixed: level, max: AutoMaxLevel, probeEvery: 2 * time.Second, window: MeasureWindow,
		closed: make(chan struct{}), now: time.Now}
	for _, s := range servers {
		ps := &poolServer{PoolServer: s, level: max(level, 1), rates: map[int]float64{}}
		if level > 0 {
			ps.settled, ps.why = true, fmt.Sprintf("fixed at %d", level)
		} else {
			ps.why = "auto: starting at 1"
		}
		p.servers = append(p.servers, ps)
	}
	return p
}

// Workers is how many requests the pool may have in flight at most: the
// number of workers worth running against it.
func (p *Pool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for range p.servers {
		if p.fixed > 0 {
			n += p.fixed
		} else {
			n += p.max
		}
	}
	return max(n, 1)
}

// Close stops the probes of down servers.
func (p *Pool) Close() { p.closeOnce.Do(func() { close(p.closed) }) }

// Preflight checks every server: it answers and has the model. Servers
// that lack it are left out, named in the error when none is left, else in
// their Status (Down); the model info is the first good server's (the smallest context
// length of them, so that a prompt fits everywhere).
func (p *Pool) Preflight(ctx context.Context, model string, pull bool) (ModelInfo, error) {
	type res struct {
		info ModelInfo
		err  error
	}
	out := make([]res, len(p.servers))
	var wg sync.WaitGroup
	for i, s := range p.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].info, out[i].err = s.Backend.Preflight(ctx, model, pull)
		}()
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.model = model
	var info ModelInfo
	var bad []string
	var keep []*poolServer
	for i, s := range p.servers {
		if out[i].err != nil {
			bad = append(bad, out[i].err.Error())
			continue
		}
		if info.ContextLength == 0 || out[i].info.ContextLength < info.ContextLength {
			info = out[i].info
		}
		keep = append(keep, s)
	}
	if len(keep) == 0 {
		if len(bad) == 1 {
			return info, errors.New(bad[0])
		}
		return info, fmt.Errorf("no server can serve %s:\n  %s", model, strings.Join(bad, "\n  "))
	}
	for i, s := range p.servers {
		if out[i].err != nil {
			s.down, s.downErr = true, "left out at preflight: "+out[i].err.Error()
		}
	}
	return info, nil
}

// Chat sends r to a server with a free slot, waiting for one.
func (p *Pool) Chat(ctx context.Context, r Request) (Reply, error) {
	var ticket uint64
	for {
		s, err := p.acquire(ctx, &ticket)
		if err != nil {
			return Reply{}, err
		}
		rctx, cancel := context.WithCancelCause(ctx)
		id := p.register(s, cancel)
		var tapped atomic.Bool
		tctx := withTap(rctx, func(n int) {
			tapped.Store(true)
			p.tokens(s, n)
		})
		t0 := time.Now()
		rep, err := s.Backend.Chat(tctx, r)
		shed := errors.Is(context.Cause(rctx), errShed) && ctx.Err() == nil
		if trace {
			fmt.Fprintf(os.Stderr, "pool %s: request %d took %.2fs, %d tokens, err %v, shed %v\n", s.Name, id, time.Since(t0).Seconds(), rep.TokensOut, err, shed)
		}
		cancel(nil)
		if err == nil && !tapped.Load() {
			p.tokens(s, rep.TokensOut) // a backend that does not stream
		}
		p.release(s, id, err, ctx.Err() != nil || shed)
		if shed {
			continue // a failed trial gave its slot back: send it again
		}
		if err != nil && isDown(err) {
			// Another server may answer: the caller's retry goes there.
			var re *RetryError
			if !errors.As(err, &re) {
				err = &RetryError{err}
			}
			return rep, fmt.Errorf("%s: %w", s.Name, err)
		}
		return rep, err
	}
}

var trace = envconfig.Get("TUNELINE_POOL_TRACE") != ""

// errShed cancels the requests a failed trial of a higher level let in.
var errShed = errors.New("shed: the server does better with fewer requests at once")

// register records an in-flight request's cancel func, newest last.
func (p *Pool) register(s *poolServer, cancel context.CancelCauseFunc) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	s.calls = append(s.calls, call{p.nextID, cancel})
	return p.nextID
}

type call struct {
	id     uint64
	cancel context.CancelCauseFunc
}

// shed cancels the newest requests beyond the server's level; p.mu is
// held.
func (s *poolServer) shed() {
	for i, n := len(s.calls)-1, len(s.calls)-s.level; n > 0 && i >= 0; i, n = i-1, n-1 {
		s.calls[i].cancel(errShed)
	}
}

// acquire waits for the up server with the most free slots. Requests
// are served in the order they first asked (ticket): a request sent again
// after a trial shed it keeps its place, and the tasks of one chunk reach
// the servers together, where their shared prompt prefix is cached.
func (p *Pool) acquire(ctx context.Context, ticket *uint64) (*poolServer, error) {
	p.mu.Lock()
	if *ticket == 0 {
		p.tickets++
		*ticket = p.tickets
	}
	i, _ := slices.BinarySearch(p.waiting, *ticket)
	p.waiting = slices.Insert(p.waiting, i, *ticket)
	p.mu.Unlock()
	leave := func() { // p.mu is held
		if i := slices.Index(p.waiting, *ticket); i >= 0 {
			p.waiting = slices.Delete(p.waiting, i, i+1)
		}
		p.signal() // the next in line may go
	}
	for {
		p.mu.Lock()
		var best *poolServer
		up := 0
		for _, s := range p.servers {
			if s.down {
				continue
			}
			up++
			if free := s.level - s.inflight; free > 0 && !s.reloading && (best == nil || free > best.level-best.inflight ||
				free == best.level-best.inflight && s.sent < best.sent) {
				best = s
			}
		}
		if best != nil && p.waiting[0] == *ticket {
			best.inflight++
			best.sent++
			leave()
			p.mu.Unlock()
			return best, nil
		}
		wake := p.wake
		if up == 0 {
			// Every server is down: fail now, the caller's retry waits
			// with backoff while the probes look for one coming back.
			why := p.downSummary()
			leave()
			p.mu.Unlock()
			return nil, &RetryError{fmt.Errorf("no server is answering (%s)", why)}
		}
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			p.mu.Lock()
			leave()
			p.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

func (p *Pool) downSummary() string {
	var parts []string
	for _, s := range p.servers {
		parts = append(parts, s.Name+": "+s.downErr)
	}
	return strings.Join(parts, "; ")
}

// signal wakes the requests waiting for a slot; p.mu is held.
func (p *Pool) signal() {
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *Pool) release(s *poolServer, id uint64, err error, cancelled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.signal()
	s.inflight--
	if s.reloading && s.inflight == 0 {
		go p.reloadModel(s)
	}
	for i, c := range s.calls {
		if c.id == id {
			s.calls = append(s.calls[:i], s.calls[i+1:]...)
			break
		}
	}
	switch {
	case cancelled:
	case err != nil && isDown(err):
		if !s.down {
			s.down, s.downErr = true, err.Error()
			go p.probe(s)
		}
	case err != nil && overloaded(err):
		s.pending = false // no trial of more on a server that says it is busy
		if p.fixed == 0 && s.level > 1 {
			s.level = max(1, s.level/2)
			s.settled = true
			s.why = fmt.Sprintf("auto: %d after the server said it was overloaded", s.level)
			s.resetEpoch(p.now())
		}
	}
	if s.pending && !s.down {
		p.raise(s, p.now()) // a request ended: the trial's requests start together
	}
}

// probe asks a down server whether it answers again, waiting longer each
// time, and takes it back in (at level 1 when auto) when it does.
func (p *Pool) probe(s *poolServer) {
	wait := p.probeEvery
	for {
		select {
		case <-time.After(wait):
		case <-p.closed:
			return
		}
		p.mu.Lock()
		model := p.model
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.Backend.Preflight(ctx, model, false)
		cancel()
		if err == nil {
			p.mu.Lock()
			s.down, s.downErr = false, ""
			if p.fixed == 0 {
				s.level, s.settled, s.warm, s.bestRate, s.pending = 1, false, false, 0, false
				s.why = "auto: back in, starting at 1"
			}
			p.signal()
			p.mu.Unlock()
			return
		}
		wait = min(2*wait, time.Minute)
	}
}

// ServerStatus is one server's state, for progress lines and summaries.
type ServerStatus struct {
	Name     string          `json:"name"`
	Level    int             `json:"level"`
	Why      string          `json:"why"`
	Down     string          `json:"down,omitempty"`
	Requests int             `json:"requests"`
	Rates    map[int]float64 `json:"tokens_per_second_by_level,omitempty"`
}

// Status reports every server.
func (p *Pool) Status() []ServerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ServerStatus, len(p.servers))
	for i, s := range p.servers {
		out[i] = ServerStatus{Name: s.Name, Level: s.level, Why: s.why, Down: s.downErr, Requests: s.sent}
		if len(s.rates) > 0 {
			out[i].Rates = map[int]float64{}
			for k, v := range s.rates {
				out[i].Rates[k] = v
			}
		}
	}
	return out
}

// StatusLine is Status in one line: "level 2 (auto: ...)" for one server,
// "host: 2, host: down" for several.
func (p *Pool) StatusLine() string {
	st := p.Status()
	if len(st) == 1 {
		return fmt.Sprintf("parallel %d (%s)", st[0].Level, st[0].Why)
	}
	var parts []string
	for _, s := range st {
		if s.Down != "" {
			parts = append(parts, s.Name+" down")
		} else {
			parts = append(parts, fmt.Sprintf("%s %d", s.Name, s.Level))
		}
	}
	return "parallel " + strings.Join(parts, ", ")
}

// statusCode is the HTTP status an error carries, or 0.
func statusCode(err error) int {
	var se api.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return 0
}

// httpError is an OpenAI-compatible server's non-2xx answer.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// overloaded tells whether the server said it is too busy.
func overloaded(err error) bool {
	c := statusCode(err)
	return c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable
}

// isDown tells whether err says the server is not answering at all (as
// opposed to answering with an error): connection refused or reset, a
// reply cut short, silence.
func isDown(err error) bool {
	if err == nil || statusCode(err) != 0 || errors.Is(err, context.Canceled) {
		return false
	}
	return transportError(err) || errors.Is(err, errSilent) || errors.Is(err, errEndedEarly)
}
