// Package llm is tuneline's one client for language-model servers: chat
// messages, requests and replies; the Ollama (native API) and
// OpenAI-compatible backends; retries with backoff; the content-addressed
// response cache; model creation with blob upload and the smoke test; and
// the server address read from OLLAMA_HOST exactly as Ollama reads it.
// Every other package talks to a model server through it.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/tuneline/tuneline/internal/setting"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one structured chat request.
type Request struct {
	Model       string
	Messages    []Message
	Schema      json.RawMessage
	Temperature float64
	Seed        int
	MaxTokens   int
}

// Reply is a model's answer with its usage.
type Reply struct {
	Content   string
	Cut       bool // stopped by the token limit
	TokensIn  int
	TokensOut int
}

// ModelInfo is what preflight learns about the model.
type ModelInfo struct {
	ContextLength int
}

// Backend is a chat server. Errors that a retry may cure are *RetryError.
//
// Token reporting, which parallel: auto measures servers by: a backend that
// streams calls ReportTokens(ctx, n) with the ctx Chat was given as the
// reply's tokens arrive; one that does not stream sets Reply.TokensOut
// (the pool then counts them when the reply ends, and a level's trial
// measures whole replies only). A backend that does neither leaves the
// pool blind: parallel: auto stays at its first level. New APIs are
// registered in apis (api.go), one file each.
type Backend interface {
	Chat(ctx context.Context, r Request) (Reply, error)
	Preflight(ctx context.Context, model string, pull bool) (ModelInfo, error)
}

// RetryError marks a failure worth retrying (network, overload, 5xx).
type RetryError struct{ Err error }

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// retryable classifies transport and status errors.
func retryable(err error, status int) bool {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status >= 500 {
		return true
	}
	if err == nil {
		return false
	}
	return transportError(err) || strings.Contains(err.Error(), "EOF")
}

// transportError tells an error of the connection itself: refused, reset,
// broken, timed out, or closed before the reply ended.
func transportError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused")
}

// unreachable says what to do when the server cannot be reached.
func unreachable(host string, err error) error {
	return fmt.Errorf("cannot reach Ollama at %s: %v — is `ollama serve` running? (set --host or OLLAMA_HOST)", host, err)
}

// backoff is the wait before retry n (1-based): exponential from base,
// capped at 20 s, with jitter.
func backoff(base time.Duration, n int, jitter float64) time.Duration {
	d := base << min(n-1, 7)
	d = min(d, 20*time.Second)
	return time.Duration(float64(d) * (0.75 + 0.5*jitter))
}

// Send makes one request and retries what a retry may cure — network
// errors, overload, 5xx, a server fallen silent — up to tries requests in
// all, waiting an exponential backoff from base (with jitter). budget bounds
// the whole: the attempts and the waits between them together never take
// longer, so a task on a slow or broken server ends in bounded time (a
// steady but slow reply is not cut by it before the budget is spent; a
// stuck one is cut by the backend's silence limit). It returns the last
// reply and error and the number of requests made. A budget or base of 0
// means 30 minutes and 250 ms.
func Send(ctx context.Context, b Backend, r Request, budget, base time.Duration, tries int, jitter func() float64) (Reply, int, error) {
	if budget <= 0 {
		budget = DefaultConfig().Timeout
	}
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	deadline := time.Now().Add(budget)
	for n := 1; ; n++ {
		rctx, cancel := context.WithDeadline(ctx, deadline)
		rep, err := b.Chat(rctx, r)
		timedOut := rctx.Err() == context.DeadlineExceeded
		cancel()
		if ctx.Err() != nil {
			return rep, n, ctx.Err()
		}
		if err == nil {
			return rep, n, nil
		}
		if timedOut {
			return rep, n, fmt.Errorf("gave up after %d request(s): %w: %w", n, budgetSpent("the request's time budget of %s is spent", budget), err)
		}
		var re *RetryError
		if !errors.As(err, &re) || n >= tries {
			return rep, n, err
		}
		activityFrom(ctx).retry(err.Error())
		wait := backoff(base, n, jitter())
		if time.Now().Add(wait).After(deadline) {
			return rep, n, fmt.Errorf("gave up after %d request(s): %w: %w", n, budgetSpent("no time left in the budget of %s for another", budget), err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return rep, n, ctx.Err()
		}
	}
}

// budgetSpent names the timeout setting in a request that ran out of time.
func budgetSpent(problem string, budget time.Duration) error {
	return &setting.Error{Section: "ollama", Key: "timeout", Flag: "timeout", Problem: fmt.Sprintf(problem, budget)}
}
