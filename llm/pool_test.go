package llm

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// simServer is a scripted server whose reply time depends on how many
// requests it has in flight: the shape of a real one, whose throughput
// rises with concurrency up to a point and falls past it.
type simServer struct {
	inflight atomic.Int32
	calls    atomic.Int32
	latency  func(inflight int) time.Duration
	fail     func(inflight int) error // nil: no failure
	lacks    bool                     // preflight: the model is missing
	down     atomic.Bool              // refuses connections
	stream   bool                     // sends its 100 tokens as it makes them
}

func (s *simServer) Chat(ctx context.Context, r Request) (Reply, error) {
	if s.down.Load() {
		return Reply{}, &RetryError{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	}
	n := int(s.inflight.Add(1))
	defer s.inflight.Add(-1)
	_ = n
	s.calls.Add(1)
	if s.fail != nil {
		if err := s.fail(n); err != nil {
			return Reply{}, err
		}
	}
	// The request progresses at the speed the server has for the number
	// of requests in flight at each moment.
	const step = time.Millisecond
	sent := 0
	for done := 0.0; done < 1; done += float64(step) / float64(s.latency(int(s.inflight.Load()))) {
		if n := int(done * 100); s.stream && n > sent {
			tapTokens(ctx, n-sent)
			sent = n
		}
		select {
		case <-time.After(step):
		case <-ctx.Done():
			return Reply{}, ctx.Err()
		}
	}
	if s.stream {
		tapTokens(ctx, 100-sent)
	}
	return Reply{Content: "{}", TokensOut: 100}, nil
}

func (s *simServer) Preflight(context.Context, string, bool) (ModelInfo, error) {
	if s.lacks {
		return ModelInfo{}, errors.New("model m is not on the server")
	}
	if s.down.Load() {
		return ModelInfo{}, errors.New("connection refused")
	}
	return ModelInfo{ContextLength: 4096}, nil
}

// drive sends n requests through the pool with as many workers as it
// wants, each retried like synth retries.
func drive(t *testing.T, p *Pool, n int) {
	t.Helper()
	var wg sync.WaitGroup
	jobs := make(chan int)
	var failed atomic.Int32
	for range p.Workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, _, err := Send(context.Background(), p, Request{}, time.Minute, 5*time.Millisecond, 20, func() float64 { return 0.5 }); err != nil {
					failed.Add(1)
					t.Error(err)
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// Auto climbs while the rate rises and goes back to the best level when it
// falls: here two requests at once beat one, three are far worse.
func TestPoolAutoFindsBestLevel(t *testing.T) {
	s := &simServer{latency: func(c int) time.Duration {
		switch c {
		case 1:
			return 20 * time.Millisecond
		case 2:
			return 22 * time.Millisecond
		}
		return time.Duration(c) * 80 * time.Millisecond
	}}
	p := NewPool([]PoolServer{{"sim", s}}, 0)
	p.window = 200 * time.Millisecond
	defer p.Close()
	drive(t, p, 120)
	st := p.Status()[0]
	r3, tried3 := st.Rates[3]
	if st.Level != 2 || !strings.Contains(st.Why, "auto: 2") || st.Rates[1] == 0 || !tried3 || r3 > st.Rates[2] {
		t.Errorf("status %+v", st)
	}
}

// A fixed level is kept whatever the rates.
func TestPoolFixedLevel(t *testing.T) {
	var most atomic.Int32
	s := &simServer{latency: func(c int) time.Duration {
		for m := most.Load(); int32(c) > m && !most.CompareAndSwap(m, int32(c)); m = most.Load() {
		}
		return 5 * time.Millisecond
	}}
	p := NewPool([]PoolServer{{"sim", s}}, 3)
	defer p.Close()
	if p.Workers() != 3 {
		t.Fatalf("workers %d", p.Workers())
	}
	drive(t, p, 30)
	if most.Load() != 3 || p.Status()[0].Level != 3 {
		t.Errorf("most in flight %d, status %+v", most.Load(), p.Status()[0])
	}
}

// 503 from the server halves the level and stops the climb.
func TestPoolOverloadBacksOff(t *testing.T) {
	s := &simServer{latency: func(int) time.Duration { return 5 * time.Millisecond }, fail: func(c int) error {
		if c > 2 {
			return &RetryError{api.StatusError{StatusCode: 503, ErrorMessage: "server busy"}}
		}
		return nil
	}}
	p := NewPool([]PoolServer{{"sim", s}}, 0)
	defer p.Close()
	p.mu.Lock()
	p.servers[0].level = 4 // as if it had climbed
	p.mu.Unlock()
	drive(t, p, 40)
	st := p.Status()[0]
	if st.Level > 2 || !strings.Contains(st.Why, "overloaded") {
		t.Errorf("status %+v", st)
	}
}

// A server that stops answering is taken out, its requests go to the
// other, and it is taken back in when a probe finds it answering again.
func TestPoolFailover(t *testing.T) {
	fast := func(int) time.Duration { return 2 * time.Millisecond }
	a, b := &simServer{latency: fast}, &simServer{latency: fast}
	p := NewPool([]PoolServer{{"a", a}, {"b", b}}, 2)
	p.probeEvery = 20 * time.Millisecond
	defer p.Close()
	if _, err := p.Preflight(context.Background(), "m", false); err != nil {
		t.Fatal(err)
	}
	a.down.Store(true)
	drive(t, p, 40)
	if st := p.Status()[0]; st.Down == "" || b.calls.Load() != 40 {
		t.Fatalf("a %+v, b answered %d of 40", st, b.calls.Load())
	}
	a.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for p.Status()[0].Down != "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	drive(t, p, 40)
	if a.calls.Load() == 0 {
		t.Errorf("a was not taken back in: %+v", p.Status())
	}
	// Every server down: the request fails (for the caller to retry)
	// instead of waiting for ever.
	a.down.Store(true)
	b.down.Store(true)
	_, _, err := Send(context.Background(), p, Request{}, time.Minute, time.Millisecond, 3, func() float64 { return 0 })
	if err == nil || !strings.Contains(err.Error(), "no server is answering") {
		t.Errorf("all down: %v", err)
	}
}

// Preflight leaves out the servers without the model and says which; with
// none left it fails naming each.
func TestPoolPreflight(t *testing.T) {
	ok := &simServer{latency: func(int) time.Duration { return time.Millisecond }}
	lacks := &simServer{lacks: true}
	p := NewPool([]PoolServer{{"ok", ok}, {"lacks", lacks}}, 1)
	defer p.Close()
	if _, err := p.Preflight(context.Background(), "m", false); err != nil {
		t.Fatal(err)
	}
	if d := p.Status()[1].Down; !strings.Contains(d, "left out at preflight: model m is not on the server") {
		t.Errorf("status of the server without the model: %q", d)
	}
	drive(t, p, 10)
	if lacks.calls.Load() != 0 || ok.calls.Load() != 10 {
		t.Errorf("calls ok %d lacks %d", ok.calls.Load(), lacks.calls.Load())
	}
	none := NewPool([]PoolServer{{"x", &simServer{lacks: true}}, {"y", &simServer{lacks: true}}}, 1)
	defer none.Close()
	if _, err := none.Preflight(context.Background(), "m", false); err == nil || !strings.Contains(err.Error(), "no server can serve m") {
		t.Errorf("err %v", err)
	}
}

// A trial of a level the server does far worse at ends early, and the
// request it let in is taken back and sent again: a server that stalls
// with two requests at once costs a fraction of a window, not the stall.
func TestPoolTrialShedsStall(t *testing.T) {
	s := &simServer{latency: func(c int) time.Duration {
		if c > 1 {
			return 10 * time.Second // a stall
		}
		return 10 * time.Millisecond
	}}
	p := NewPool([]PoolServer{{"sim", s}}, 0)
	p.window = 200 * time.Millisecond
	defer p.Close()
	start := time.Now()
	drive(t, p, 40)
	st := p.Status()[0]
	if d := time.Since(start); d > 3*time.Second || st.Level != 1 || !strings.Contains(st.Why, "2 gave") {
		t.Errorf("took %s, status %+v", d, st)
	}
}

// Requests get their slots in the order they asked.
func TestPoolServesInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []int
	s := &simServer{latency: func(int) time.Duration { return 5 * time.Millisecond }}
	p := NewPool([]PoolServer{{"sim", s}}, 1)
	defer p.Close()
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ticket uint64
			srv, err := p.acquire(context.Background(), &ticket)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			p.release(srv, 0, nil, false)
		}()
		time.Sleep(time.Millisecond) // ask in turn
	}
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("served in the order %v", order)
		}
	}
}

// reloadSim is a server that can reload its model; with sticky, a level
// above 1 leaves it slower at level 1 until reloaded (Ollama's runner
// keeping every slot's prompt cache).
type reloadSim struct {
	simServer
	slowed  atomic.Bool
	reloads atomic.Int32
}

func (s *reloadSim) Reload(context.Context, string) error {
	s.reloads.Add(1)
	s.slowed.Store(false)
	return nil
}

// After a failed trial the best level is measured again; a server that
// stays much slower is reloaded once and is fast again, one that does not
// is left alone; with ReloadAfterTrial off, nothing is reloaded.
func TestPoolReloadAfterTrial(t *testing.T) {
	for _, tt := range []struct {
		name          string
		sticky, allow bool
		worse         time.Duration // a request's time at level c is c*worse
		reloads       int32
		why           string
	}{
		{"quartered, reloaded at once", true, true, 80 * time.Millisecond, 1, "reloaded the model at once"},
		{"stays slower", true, true, 22 * time.Millisecond, 1, "tokens/s after the trial"},
		{"as fast as before", false, true, 22 * time.Millisecond, 0, ""},
		{"reload not allowed", true, false, 80 * time.Millisecond, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &reloadSim{}
			s.latency = func(c int) time.Duration {
				if c > 1 {
					if tt.sticky {
						s.slowed.Store(true)
					}
					return time.Duration(c) * tt.worse
				}
				if s.slowed.Load() {
					return 60 * time.Millisecond
				}
				return 20 * time.Millisecond
			}
			p := NewPool([]PoolServer{{"sim", s}}, 0)
			p.window = 200 * time.Millisecond
			p.ReloadAfterTrial(tt.allow)
			defer p.Close()
			start := time.Now()
			drive(t, p, 100)
			st := p.Status()[0]
			// One decision, told once: the trial of 2 failed (and the
			// model was reloaded once).
			if s.reloads.Load() != tt.reloads || st.Level != 1 || strings.Count(st.Why, "reloaded") != int(tt.reloads) || !strings.Contains(st.Why, tt.why) ||
				!strings.Contains(st.Why, "; 2 gave") {
				t.Errorf("%d reloads, status %+v", s.reloads.Load(), st)
			}
			t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), st.Why)
		})
	}
}

// A trial starts its requests together, when a request ends, and a
// reload sheds them (on the server as the trial left it, a request goes
// on several times slower): on a server that streams, the trial's two
// requests are the only ones sent twice. The trial fails on the tokens
// of its requests, or (a trial under which nothing streams) on the
// measuring tick, which must then stop.
func TestPoolTrialStartsTogether(t *testing.T) {
	for _, tt := range []struct {
		name  string
		trial time.Duration // a request's time at level 2
	}{
		{"on tokens", 240 * time.Millisecond},
		{"on the tick", time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &startsSim{}
			s.stream = true
			s.latency = func(c int) time.Duration {
				if c > 1 {
					s.slowed.Store(true)
					return tt.trial
				}
				if s.slowed.Load() {
					return 500 * time.Millisecond
				}
				return 20 * time.Millisecond
			}
			p := NewPool([]PoolServer{{"sim", s}}, 0)
			p.window = 200 * time.Millisecond
			p.ReloadAfterTrial(true)
			defer p.Close()
			drive(t, p, 60)
			st := p.Status()[0]
			if s.reloads.Load() != 1 || s.calls.Load() != 62 || strings.Count(st.Why, "reloaded") != 1 || !strings.Contains(st.Why, "; 2 gave") ||
				!strings.Contains(st.Why, "reloaded the model at once") {
				t.Errorf("%d reloads, %d calls for 60 requests, status %+v", s.reloads.Load(), s.calls.Load(), st)
			}
			if g := time.Duration(s.gap.Load()); g > 10*time.Millisecond {
				t.Errorf("a request started %v after another still in flight", g)
			}
		})
	}
}

// startsSim records the longest time between the start of a request
// and that of another started while it was in flight.
type startsSim struct {
	reloadSim
	mu     sync.Mutex
	starts map[int]time.Time
	next   int
	gap    atomic.Int64
}

func (s *startsSim) Chat(ctx context.Context, r Request) (Reply, error) {
	s.mu.Lock()
	if s.starts == nil {
		s.starts = map[int]time.Time{}
	}
	id := s.next
	s.next++
	now := time.Now()
	for _, t0 := range s.starts {
		if g := int64(now.Sub(t0)); g > s.gap.Load() {
			s.gap.Store(g)
		}
	}
	s.starts[id] = now
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.starts, id)
		s.mu.Unlock()
	}()
	return s.reloadSim.Chat(ctx, r)
}
