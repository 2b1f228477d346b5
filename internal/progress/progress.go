// Package progress reports the progress of long work on stderr: a live bar
// when stderr is a terminal, a line every few seconds when it is a log, and
// nothing when quiet. The work itself only calls Set or Add.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar is one progress display. Its methods are safe for concurrent use.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int64
	done  int64
	bytes bool
	live  bool
	start time.Time
	last  time.Time
	every time.Duration
	shown int64 // done at the last line drawn; -1 before the first
	// changed is when done last changed (for the heartbeat's line).
	changed time.Time
	note    func() string // more words for each line (may be nil)
	onLine  bool          // a live bar is on the terminal's current line
	off     bool
	now     func() time.Time
}

// Options configure a Bar.
type Options struct {
	Label string
	Total int64 // 0 when unknown
	Bytes bool  // counts are bytes (shown as MB)
	// Live redraws one line (a terminal); otherwise a line is logged every
	// LogEvery (default 5 s).
	Live     bool
	LogEvery time.Duration
	Off      bool
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// New starts a bar writing to w.
func New(w io.Writer, o Options) *Bar {
	if o.LogEvery == 0 {
		o.LogEvery = 5 * time.Second
	}
	every := o.LogEvery
	if o.Live {
		every = 100 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now()
	return &Bar{w: w, label: o.Label, total: o.Total, bytes: o.Bytes, live: o.Live, start: now, last: now, changed: now, every: every, off: o.Off, now: o.Now, shown: -1}
}

// Set records the amount done so far.
func (b *Bar) Set(done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done != b.done {
		b.changed = b.now()
	}
	b.done = done
	b.maybeDraw(false)
}

// SetNote adds note's words to every line drawn from now on (what the
// work is doing right now: tokens streaming, the last retry and why).
func (b *Bar) SetNote(note func() string) {
	b.mu.Lock()
	b.note = note
	b.mu.Unlock()
}

// Beat shows that work goes on when nothing has been counted for a while:
// a log gets a line (with how long since the last count changed) once
// every LogEvery, a terminal's line is redrawn. Call it on a timer (see
// Stages.Heartbeat); it draws nothing before LogEvery has passed.
func (b *Bar) Beat() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.off {
		return
	}
	now := b.now()
	if now.Sub(b.last) < b.every {
		return
	}
	if b.shown == b.done && !b.live {
		b.last = now
		fmt.Fprintf(b.w, "%s (working; %s since the last change)\n", b.line(now.Sub(b.start)), now.Sub(b.changed).Round(time.Second))
		return
	}
	b.maybeDraw(true)
}

// Heartbeat beats the bar every interval until stop is closed.
func (b *Bar) Heartbeat(interval time.Duration, stop <-chan struct{}) { every(interval, stop, b.Beat) }

// every calls beat each interval until stop is closed.
func every(interval time.Duration, stop <-chan struct{}, beat func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			beat()
		}
	}
}

// SetTotal changes the total (work discovered as it goes).
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Done draws the state reached, unless a line already shows it, and ends
// a live bar's line. A bar that never drew anything stays silent (short
// work needs no progress). Work may go on after Done: the next Set draws
// again, and the next Done ends that.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.off || b.shown < 0 {
		return
	}
	if b.shown != b.done {
		b.maybeDraw(true)
	}
	if b.onLine {
		fmt.Fprintln(b.w)
		b.onLine = false
	}
}

func (b *Bar) amount(n int64) string {
	if b.bytes {
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprint(n)
}

// rate formats items (or bytes) per second with the digits that matter:
// slow work such as model requests runs at less than one a second.
func rate(n float64, bytes bool) string {
	if bytes {
		return fmt.Sprintf("%.1f MB/s", n/1e6)
	}
	switch {
	case n >= 10:
		return fmt.Sprintf("%.0f/s", n)
	case n >= 1:
		return fmt.Sprintf("%.1f/s", n)
	default:
		return fmt.Sprintf("%.2f/s", n)
	}
}

// eta is the time left at the rate so far, f being the share done.
func eta(elapsed time.Duration, f float64) time.Duration {
	return time.Duration(float64(elapsed) * (1 - f) / f).Round(time.Second)
}

// line is the text of one progress line.
func (b *Bar) line(elapsed time.Duration) string {
	var sb strings.Builder
	sb.WriteString(b.label + " " + b.amount(b.done))
	if b.total > 0 {
		f := min(float64(b.done)/float64(b.total), 1)
		sb.WriteString(" / " + b.amount(b.total))
		if b.live {
			const width = 24
			n := int(f * width)
			sb.WriteString(" [" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]")
		}
		fmt.Fprintf(&sb, " %3.0f%%", f*100)
		switch {
		case f > 0 && f < 1:
			fmt.Fprintf(&sb, " ETA %s", eta(elapsed, f))
		case f == 0:
			sb.WriteString(" ETA unknown") // no rate measured yet
		}
	}
	if elapsed > 0 {
		sb.WriteString(" " + rate(float64(b.done)/elapsed.Seconds(), b.bytes))
	}
	if b.note != nil {
		if n := b.note(); n != "" {
			sb.WriteString(" · " + n)
		}
	}
	return sb.String()
}

func (b *Bar) maybeDraw(force bool) {
	if b.off {
		return
	}
	now := b.now()
	if !force && now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	b.shown = b.done
	text := b.line(now.Sub(b.start))
	if b.live {
		fmt.Fprintf(b.w, "\r\033[K%s", text)
		b.onLine = true
	} else {
		fmt.Fprintln(b.w, text)
	}
}
