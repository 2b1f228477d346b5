package llm

import (
	"context"
	"fmt"
	"os"
	"time"
)

// The auto level search: each server's tokens a second measured over
// windows while its level climbs, the failed trial of a level ended and
// its requests shed, and the model reloaded when a trial left the server
// slower.

// Reloader is a backend that can reload a model, starting its server's
// runner afresh (Ollama).
type Reloader interface {
	Reload(ctx context.Context, model string) error
}

// ReloadAfterTrial lets the auto search reload the model, once per
// server, when the server runs slower at its best level after a higher
// level was tried than it did before: Ollama's runner keeps the prompt
// cache of every slot the trial used, and each later request attends over
// all of it (measured with the tiny model: 464 tokens/s at level 1 before
// a level-4 run, 85 after).
func (p *Pool) ReloadAfterTrial(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reload = on
}

// MeasureWindow is how long the auto search measures each level: the
// tokens a server sends (streamed ones as they come) over this time are its
// rate at that level.
const MeasureWindow = 2 * time.Second

// tokens counts n tokens from s towards the current measurement and, when
// the window is over, moves the level: up while the rate rises by more
// than 5 %, back to the best level (settled) when it does not. The window
// starts at the first token (the model's load is not a rate) and again at
// every change of level.
func (p *Pool) tokens(s *poolServer, n int) {
	if p.fixed > 0 || n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !s.measuring() {
		return
	}
	now := p.now()
	if !s.warm {
		s.warm = true
		s.resetEpoch(now)
		return
	}
	s.epochToks += n
	p.evaluate(s, now)
}

// evaluate ends the measurement window when it is over (or, for a trial of
// a higher level, as soon as the rate is plainly worse: under half the best
// after a quarter of the window) and moves the level; p.mu is held.
func (p *Pool) evaluate(s *poolServer, now time.Time) {
	secs := now.Sub(s.epochStart).Seconds()
	rate := float64(s.epochToks) / max(secs, 1e-9)
	trial := s.bestRate > 0
	// Early only on tokens seen: a server that does not stream sends
	// none before its first reply ends.
	early := trial && s.epochToks > 0 && secs >= p.window.Seconds()/4 && rate < s.bestRate/2
	// The check after a trial (Ollama, which streams) is plainly failed
	// at half the window under half the rate, tokens or none.
	early = early || s.checking && secs >= p.window.Seconds()/2 && rate < s.bestRate/2
	if !early && (secs < p.window.Seconds() || s.epochToks < 32 && !trial) {
		return
	}
	if s.checking {
		p.check(s, rate, now)
		return
	}
	s.rates[s.level] = rate
	if trace {
		fmt.Fprintf(os.Stderr, "pool %s: level %d: %.0f tokens/s over %.2fs (early %v, best %.0f)\n", s.Name, s.level, rate, secs, early, s.bestRate)
	}
	switch {
	case !early && rate > s.bestRate*1.05 && s.level < p.max:
		s.bestRate, s.bestLevel = rate, s.level
		s.why = fmt.Sprintf("auto: trying %d (%.0f tokens/s at %d)", s.level+1, rate, s.bestLevel)
		// The trial starts when a request ends, so that its requests
		// start together: a trial that fails sheds them young, and
		// none that began before it is slowed down by it (measured:
		// a level-1 request the trial of 2 overlapped went on at
		// 141-159 tokens/s after the trial's request was shed, 700-1000
		// before).
		s.pending = true
		if s.inflight < s.level {
			p.raise(s, now)
		}
		return
	case !early && rate > s.bestRate*1.05:
		s.bestRate, s.bestLevel = rate, s.level
		s.settled = true
		s.why = fmt.Sprintf("auto: %d, the highest tried (%.0f tokens/s)", s.level, rate)
	default:
		s.settled = true
		s.why = fmt.Sprintf("auto: %d (%.0f tokens/s; %d gave %.0f)", s.bestLevel, s.bestRate, s.level, rate)
		s.level = s.bestLevel
		// The requests the trial let in go back to wait for a slot:
		// the server serves the others better without them.
		s.shed()
		if _, ok := s.Backend.(Reloader); ok && p.reload && !s.reloaded {
			if rate < s.bestRate/4 {
				// More requests at once quartered the rate: not
				// compute shared out but each request doing the
				// others' work, which stays (Ollama's slot caches).
				p.startReload(s, fmt.Sprintf("; reloaded the model at once: %d did under a quarter of %d", s.bestLevel+1, s.bestLevel))
			} else {
				// one more window at the best level: as fast as before?
				s.settled, s.checking = false, true
			}
		}
	}
	if s.trial != nil && s.settled {
		s.trial.Stop()
	}
	s.resetEpoch(now)
}

// measuring tells whether s's rate is being measured: not once settled,
// nor while the model waits to reload, nor while a trial waits for a
// request to end; p.mu is held.
func (s *poolServer) measuring() bool { return !s.settled && !s.reloading && !s.pending }

// raise starts the trial of the next level; p.mu is held.
func (p *Pool) raise(s *poolServer, now time.Time) {
	s.pending = false
	s.level++
	s.resetEpoch(now)
	p.startTrial(s)
	p.signal()
}

// check compares the rate at the best level after a failed trial with
// the rate before it, and reloads the model when the server stays much
// slower; p.mu is held.
func (p *Pool) check(s *poolServer, rate float64, now time.Time) {
	s.checking = false
	s.resetEpoch(now)
	if trace {
		fmt.Fprintf(os.Stderr, "pool %s: level %d after the trial: %.0f tokens/s (%.0f before)\n", s.Name, s.level, rate, s.bestRate)
	}
	if rate >= 0.7*s.bestRate {
		s.settled = true
		return
	}
	p.startReload(s, fmt.Sprintf("; reloaded the model: %.0f tokens/s after the trial", rate))
}

// startReload sheds every request on s (they are sent again after) and
// reloads the model once none is in flight; p.mu is held.
func (p *Pool) startReload(s *poolServer, why string) {
	s.why += why
	s.settled, s.reloading = false, true
	if s.trial != nil {
		s.trial.Stop() // no measuring while the model reloads
	}
	// Every request goes back to wait: on the server as the trial left
	// it, one would go on several times slower (measured: 141-159
	// tokens/s against 700-1000), and a trial starts its requests
	// together, so they are young.
	s.level = 0
	s.shed()
	s.level = s.bestLevel
	if s.inflight == 0 {
		go p.reloadModel(s)
	}
}

// reloadModel reloads the model on s and lets requests in again.
func (p *Pool) reloadModel(s *poolServer) {
	p.mu.Lock()
	model := p.model
	if !s.reloading || s.reloaded {
		p.mu.Unlock()
		return
	}
	s.reloaded = true // one reload, even when two releases start it
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t0 := time.Now()
	err := s.Backend.(Reloader).Reload(ctx, model)
	cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		s.why += fmt.Sprintf(" (the reload failed: %v)", err)
	}
	if trace {
		fmt.Fprintf(os.Stderr, "pool %s: reloaded %s in %.2fs: %v\n", s.Name, model, time.Since(t0).Seconds(), err)
	}
	s.reloading, s.settled = false, true
	p.signal()
}

// startTrial checks a trial every tenth of the window even when no token
// comes (a server that stalls sends none); p.mu is held.
func (p *Pool) startTrial(s *poolServer) {
	if s.trial != nil {
		s.trial.Stop()
	}
	var tick func()
	tick = func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !s.measuring() || s.down {
			return
		}
		p.evaluate(s, p.now())
		// A reload or a pending trial the tick started stops it too
		// (raise starts the next trial's).
		if s.measuring() {
			s.trial = time.AfterFunc(p.window/10, tick)
		}
	}
	s.trial = time.AfterFunc(p.window/10, tick)
}

func (s *poolServer) resetEpoch(now time.Time) {
	s.epochStart, s.epochToks = now, 0
}
