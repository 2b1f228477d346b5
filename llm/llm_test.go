package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryable(t *testing.T) {
	var ne net.Error = timeoutErr{}
	for _, tt := range []struct {
		err    error
		status int
		want   bool
	}{
		{nil, 200, false},
		{nil, 400, false},
		{nil, 404, false},
		{nil, 429, true},
		{nil, 500, true},
		{nil, 503, true},
		{ne, 0, true},
		{io.ErrUnexpectedEOF, 0, true},
		{fmt.Errorf("post: %w", syscall.ECONNREFUSED), 0, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), 0, true},
		{errors.New("model not found"), 0, false},
	} {
		if got := retryable(tt.err, tt.status); got != tt.want {
			t.Errorf("retryable(%v, %d) = %v, want %v", tt.err, tt.status, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	base := 250 * time.Millisecond
	for _, tt := range []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0.5, base},
		{2, 0.5, 2 * base},
		{3, 0.5, 4 * base},
		{1, 0, base * 3 / 4},
		{1, 1, base * 5 / 4},
		{8, 0.5, 20 * time.Second}, // capped
		{50, 0.5, 20 * time.Second},
	} {
		if got := backoff(base, tt.n, tt.jitter); got != tt.want {
			t.Errorf("backoff(%v, %d, %v) = %v, want %v", base, tt.n, tt.jitter, got, tt.want)
		}
	}
}

// scripted is a Backend that answers from a script, one function per call
// in order (the last one repeats), and counts the calls.
type scripted struct {
	mu    sync.Mutex
	calls int
	reqs  []Request
	steps []func(Request) (Reply, error)
}

func (s *scripted) Chat(ctx context.Context, r Request) (Reply, error) {
	s.mu.Lock()
	i := min(s.calls, len(s.steps)-1)
	s.calls++
	s.reqs = append(s.reqs, r)
	step := s.steps[i]
	s.mu.Unlock()
	return step(r)
}

func (s *scripted) Preflight(context.Context, string, bool) (ModelInfo, error) {
	return ModelInfo{ContextLength: 8192}, nil
}

func ok(content string) func(Request) (Reply, error) {
	return func(Request) (Reply, error) { return Reply{Content: content, TokensOut: 10}, nil }
}

func fail(err error) func(Request) (Reply, error) {
	return func(Request) (Reply, error) { return Reply{}, err }
}

func TestSend(t *testing.T) {
	retry := &RetryError{errors.New("503 overloaded")}
	hard := errors.New("400 bad request")
	noJitter := func() float64 { return 0.5 }
	for _, tt := range []struct {
		name  string
		steps []func(Request) (Reply, error)
		tries int
		calls int
		err   error
	}{
		{"first try", []func(Request) (Reply, error){ok("x")}, 3, 1, nil},
		{"retried until it works", []func(Request) (Reply, error){fail(retry), fail(retry), ok("x")}, 5, 3, nil},
		{"gives up after tries", []func(Request) (Reply, error){fail(retry)}, 3, 3, retry},
		{"not retryable", []func(Request) (Reply, error){fail(hard), ok("x")}, 5, 1, hard},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &scripted{steps: tt.steps}
			_, n, err := Send(context.Background(), b, Request{}, time.Second, time.Millisecond, tt.tries, noJitter)
			if n != tt.calls || b.calls != tt.calls {
				t.Errorf("%d requests (%d seen), want %d", n, b.calls, tt.calls)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}
	// The budget bounds the attempts and waits together: a request that
	// outlives it is not retried, and retries stop when no time is left
	// for another; a cancelled run stops at once.
	slow := func(r Request) (Reply, error) {
		time.Sleep(50 * time.Millisecond)
		return Reply{}, context.DeadlineExceeded
	}
	b := &scripted{steps: []func(Request) (Reply, error){slow, ok("x")}}
	if _, n, err := Send(context.Background(), b, Request{}, 10*time.Millisecond, time.Millisecond, 3, noJitter); err == nil || n != 1 || !strings.Contains(err.Error(), "time budget of 10ms is spent") {
		t.Errorf("request over the budget: %d requests, %v", n, err)
	}
	b = &scripted{steps: []func(Request) (Reply, error){fail(retry)}}
	start := time.Now()
	_, n, err := Send(context.Background(), b, Request{}, 300*time.Millisecond, 50*time.Millisecond, 100, noJitter)
	if err == nil || !strings.Contains(err.Error(), "no time left in the budget") || n >= 100 || time.Since(start) > 400*time.Millisecond {
		t.Errorf("retries past the budget: %d requests in %v, %v", n, time.Since(start), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = &scripted{steps: []func(Request) (Reply, error){fail(retry)}}
	if _, n, err := Send(ctx, b, Request{}, time.Second, time.Hour, 9, noJitter); !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("cancelled: %d requests, %v", n, err)
	}
}
