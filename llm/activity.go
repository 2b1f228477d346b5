package llm

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Activity counts what the model servers are doing for a run, for its
// progress line: tokens received (streamed ones as they come) and the last
// retry with its reason. Attach one to a context with WithActivity; the
// backends and Send report into it. Safe for concurrent use.
type Activity struct {
	start   time.Time
	tokens  atomic.Int64
	retries atomic.Int64
	last    atomic.Pointer[retryNote]
	phase   atomic.Pointer[string]
	status  atomic.Pointer[func() string]
}

// ShowStatus adds status's words to every Note (a pool's level of parallel
// requests, so that each progress line names it); nil removes them. A
// no-op without an activity.
func ShowStatus(ctx context.Context, status func() string) {
	if a := activityFrom(ctx); a != nil {
		if status == nil {
			a.status.Store(nil)
		} else {
			a.status.Store(&status)
		}
	}
}

// SetPhase names what the run is doing before any request (building
// Ollama, starting it); "" clears it. A no-op without an activity.
func SetPhase(ctx context.Context, phase string) {
	if a := activityFrom(ctx); a != nil {
		a.phase.Store(&phase)
	}
}

type retryNote struct {
	at     time.Time
	reason string
}

// NewActivity starts counting now.
func NewActivity() *Activity { return &Activity{start: time.Now()} }

type activityKey struct{}

// WithActivity makes the requests under ctx report into a.
func WithActivity(ctx context.Context, a *Activity) context.Context {
	return context.WithValue(ctx, activityKey{}, a)
}

type tapKey struct{}

// withTap makes the backends under ctx call f with each batch of tokens
// received (streamed ones as they come): the pool measures a server's rate
// from them without waiting for replies to end.
func withTap(ctx context.Context, f func(n int)) context.Context {
	return context.WithValue(ctx, tapKey{}, f)
}

// tapTokens reports n tokens to the tap under ctx, if any; it tells
// whether there was one.
func tapTokens(ctx context.Context, n int) bool {
	f, _ := ctx.Value(tapKey{}).(func(int))
	if f != nil {
		f(n)
	}
	return f != nil
}

func activityFrom(ctx context.Context) *Activity {
	a, _ := ctx.Value(activityKey{}).(*Activity)
	return a
}

func (a *Activity) addTokens(n int) {
	if a != nil {
		a.tokens.Add(int64(n))
	}
}

func (a *Activity) retry(reason string) {
	if a != nil {
		a.retries.Add(1)
		if len(reason) > 80 {
			reason = reason[:80] + "…"
		}
		a.last.Store(&retryNote{time.Now(), reason})
	}
}

// Note is the activity in words: tokens received and their rate, the
// last retry (within the last minute) with its reason, and the status
// shown (ShowStatus).
func (a *Activity) Note() string {
	if a == nil {
		return ""
	}
	var parts []string
	if p := a.phase.Load(); p != nil && *p != "" {
		parts = append(parts, *p)
	}
	if n := a.tokens.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d tokens received, %.0f/s", n, float64(n)/max(time.Since(a.start).Seconds(), 1e-3)))
	}
	if r := a.last.Load(); r != nil && time.Since(r.at) < time.Minute {
		parts = append(parts, fmt.Sprintf("retry %d, %s ago: %s", a.retries.Load(), time.Since(r.at).Round(time.Second), r.reason))
	}
	if f := a.status.Load(); f != nil {
		if st := (*f)(); st != "" {
			parts = append(parts, st)
		}
	}
	return strings.Join(parts, "; ")
}

// ReportTokens reports n tokens of a reply as they arrive: to the run's
// progress (Activity) and to the pool measuring the server (see Backend).
func ReportTokens(ctx context.Context, n int) {
	activityFrom(ctx).addTokens(n)
	tapTokens(ctx, n)
}
