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
	meter   atomic.Pointer[Meter] // the current piece of work's tokens (StartMeter)
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
func NewActivity() *Activity {
	a := &Activity{}
	a.meter.Store(newMeter(nil))
	return a
}

// Meter counts the reply tokens of one piece of work (a command, or a
// stage of tuneline run) from its start, for its rate: the progress line
// and the summary read the same Meter, so they give the same figure.
type Meter struct {
	now    func() time.Time
	start  time.Time
	tokens atomic.Int64
}

func newMeter(now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	return &Meter{now: now, start: now()}
}

// StartMeter starts counting a new piece of work's tokens now (by clock,
// time.Now when nil; tests pass their own): the activity under ctx shows
// its tokens and rate from here on. Without an activity, the returned
// context carries a new one, so the meter counts all the same.
func StartMeter(ctx context.Context, clock func() time.Time) (context.Context, *Meter) {
	m := newMeter(clock)
	a := activityFrom(ctx)
	if a == nil {
		a = &Activity{}
		ctx = WithActivity(ctx, a)
	}
	a.meter.Store(m)
	return ctx, m
}

// Tokens is how many reply tokens were received since the meter started.
func (m *Meter) Tokens() int64 { return m.tokens.Load() }

// Elapsed is the time since the meter started.
func (m *Meter) Elapsed() time.Duration { return m.now().Sub(m.start) }

// Rate is the meter's tokens/s now (TokensPerSecond).
func (m *Meter) Rate() float64 { return TokensPerSecond(m.Tokens(), m.Elapsed()) }

// TokensPerSecond is tuneline's one definition of a token rate, the figure
// in synth's progress line ("N tokens received, X/s"), its summary and its
// --json (tokens_out_per_second): the reply tokens the model servers sent
// for a piece of work (streamed ones as they arrive; every reply's,
// whether it was kept, re-asked, or cut off by a timeout or a shed trial)
// over the wall-clock time since that work started (preflight included,
// and the time cache hits took; in tuneline run, since the stage started).
// 0 before any time has passed.
func TokensPerSecond(tokens int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(tokens) / elapsed.Seconds()
}

// RateNote words a meter's figures the one way the progress line and the
// summary both print them.
func RateNote(tokens int64, rate float64) string {
	return fmt.Sprintf("%d tokens received, %.0f/s", tokens, rate)
}

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
		a.meter.Load().tokens.Add(int64(n))
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

// Note is the activity in words: tokens received and their rate (the
// current Meter's), the
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
	if m := a.meter.Load(); m.Tokens() > 0 {
		parts = append(parts, RateNote(m.Tokens(), m.Rate()))
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
