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
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int64
	done    int64
	bytes   bool
	live    bool
	start   time.Time
	last    time.Time
	every   time.Duration
	printed bool
	off     bool
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
	now := time.Now()
	return &Bar{w: w, label: o.Label, total: o.Total, bytes: o.Bytes, live: o.Live, start: now, last: now, every: every, off: o.Off}
}

// Set records the amount done so far.
func (b *Bar) Set(done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	b.maybeDraw(false)
}

// SetTotal changes the total (work discovered as it goes).
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Done draws the final state and ends the line.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.off || !b.printed {
		return
	}
	b.maybeDraw(true)
	if b.live {
		fmt.Fprintln(b.w)
	}
}

func (b *Bar) amount(n int64) string {
	if b.bytes {
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprint(n)
}

func (b *Bar) maybeDraw(force bool) {
	if b.off {
		return
	}
	now := time.Now()
	if !force && now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	b.printed = true
	el := now.Sub(b.start).Seconds()
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
		if f > 0 && f < 1 {
			fmt.Fprintf(&sb, " ETA %s", (time.Duration(el*(1-f)/f) * time.Second / time.Second).Round(time.Second))
		}
	}
	if el > 0 {
		rate := float64(b.done) / el
		if b.bytes {
			fmt.Fprintf(&sb, " %.1f MB/s", rate/1e6)
		} else {
			fmt.Fprintf(&sb, " %.0f/s", rate)
		}
	}
	if b.live {
		fmt.Fprintf(b.w, "\r\033[K%s", sb.String())
	} else {
		fmt.Fprintln(b.w, sb.String())
	}
}
