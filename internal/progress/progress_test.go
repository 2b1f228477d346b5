package progress

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// clock is a fake time source that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		n     float64
		bytes bool
		want  string
	}{
		{0, false, "0.00/s"},
		{0.28, false, "0.28/s"}, // model requests: less than one a second
		{1, false, "1.0/s"},
		{9.94, false, "9.9/s"},
		{10, false, "10/s"},
		{1234.4, false, "1234/s"},
		{0, true, "0.0 MB/s"},
		{153.26e6, true, "153.3 MB/s"},
	} {
		if got := rate(tc.n, tc.bytes); got != tc.want {
			t.Errorf("rate(%v, %v) = %q, want %q", tc.n, tc.bytes, got, tc.want)
		}
	}
}

func TestETA(t *testing.T) {
	for _, tc := range []struct {
		elapsed time.Duration
		f       float64
		want    time.Duration
	}{
		{20 * time.Second, 0.6, 13 * time.Second}, // 20 s for 60 %: 13.3 s left
		{10 * time.Second, 0.5, 10 * time.Second},
		{90 * time.Minute, 0.25, 270 * time.Minute},
		{1500 * time.Millisecond, 0.75, 1 * time.Second}, // 0.5 s rounds up
		{time.Second, 0.999, 0},
	} {
		if got := eta(tc.elapsed, tc.f); got != tc.want {
			t.Errorf("eta(%v, %v) = %v, want %v", tc.elapsed, tc.f, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		done    int64
		elapsed time.Duration
		want    string
	}{
		{"count, no total", Options{Label: "curate"}, 17, 10 * time.Second, "curate 17 1.7/s"},
		{"count with total", Options{Label: "[2/6] synth", Total: 5}, 3, 20 * time.Second, "[2/6] synth 3 / 5  60% ETA 13s 0.15/s"},
		{"finished", Options{Label: "synth", Total: 9}, 9, 30 * time.Second, "synth 9 / 9 100% 0.30/s"},
		{"over the total", Options{Label: "x", Total: 4}, 5, time.Second, "x 5 / 4 100% 5.0/s"},
		{"bytes", Options{Label: "validate", Total: 200e6, Bytes: true}, 50e6, time.Second, "validate 50.0 MB / 200.0 MB  25% ETA 3s 50.0 MB/s"},
		{"live bar", Options{Label: "ingest", Total: 4, Live: true}, 1, time.Second, "ingest 1 / 4 [======                  ]  25% ETA 3s 1.0/s"},
		{"no time yet", Options{Label: "a"}, 0, 0, "a 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(&strings.Builder{}, tc.o)
			b.done = tc.done
			if got := b.line(tc.elapsed); got != tc.want {
				t.Errorf("line = %q\n          want %q", got, tc.want)
			}
		})
	}
}

// TestLogBar: a log's bar draws a line at most every LogEvery, and Done
// draws the state reached unless the last line shows it.
func TestLogBar(t *testing.T) {
	type step struct {
		after time.Duration
		set   int64
	}
	for _, tc := range []struct {
		name  string
		total int64
		steps []step
		want  string
	}{
		{"last line shows the end", 10, []step{{0, 1}, {5 * time.Second, 5}, {time.Second, 6}, {4 * time.Second, 10}},
			"job 5 / 10  50% ETA 5s 1.0/s\njob 10 / 10 100% 1.0/s\n"},
		{"Done draws what no line showed", 0, []step{{5 * time.Second, 5}, {time.Second, 7}},
			"job 5 1.0/s\njob 7 1.2/s\n"},
		{"short work draws nothing", 3, []step{{time.Second, 1}, {time.Second, 3}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			var out strings.Builder
			b := New(&out, Options{Label: "job", Total: tc.total, Now: c.now})
			for _, st := range tc.steps {
				c.advance(st.after)
				b.Set(st.set)
			}
			b.Done()
			b.Done() // nothing more
			if out.String() != tc.want {
				t.Errorf("output\n%q\nwant\n%q", out.String(), tc.want)
			}
		})
	}
}

func TestQuietAndShortWork(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := New(&out, Options{Label: "job", Now: c.now})
	b.Set(3)
	b.Done() // never drew: stays silent (short work needs no progress)
	off := New(&out, Options{Label: "job", Off: true, Live: true, Now: c.now})
	c.advance(time.Minute)
	off.Set(5)
	off.Done()
	if out.Len() != 0 {
		t.Errorf("wrote %q", out.String())
	}
}

func TestLiveBar(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := New(&out, Options{Label: "job", Total: 2, Live: true, Now: c.now})
	c.advance(200 * time.Millisecond)
	b.Set(1)
	b.Done() // a log line comes: the bar's line ends
	out.WriteString("log\n")
	c.advance(100 * time.Millisecond)
	b.Set(1)
	c.advance(700 * time.Millisecond)
	b.Set(2)
	b.Done()
	b.Done() // nothing more
	bar := func(s string) string { return "\r\033[K" + s }
	want := bar("job 1 / 2 [============            ]  50% ETA 0s 5.0/s") +
		"\n" + "log\n" +
		bar("job 1 / 2 [============            ]  50% ETA 0s 3.3/s") +
		bar("job 2 / 2 [========================] 100% 2.0/s") + "\n"
	if out.String() != want {
		t.Errorf("output\n%q\nwant\n%q", out.String(), want)
	}
}

// TestStages is the pipeline's case: each stage's last progress line
// comes before its "done" log line, and a stage split by a log line keeps
// its start (its rate counts from when it began).
func TestStages(t *testing.T) {
	c := newClock()
	var out strings.Builder
	s := NewStages(&out, Options{Now: c.now}, func(st string) string { return "[" + st + "]" })
	log := s.Log()
	fmt.Fprintln(log, "synth running")
	s.Set("synth", 0, 8)
	c.advance(5 * time.Second)
	s.Set("synth", 4, 8)
	c.advance(time.Second)
	s.Set("synth", 8, 8) // too soon to draw: drawn by the log line that follows
	fmt.Fprintln(log, "synth done")
	fmt.Fprintln(log, "curate running")
	s.Set("curate", 0, 0)
	c.advance(5 * time.Second)
	s.Set("curate", 10, 0)
	fmt.Fprintln(log, "curate: a retry") // splits the bar; 10 is shown already
	c.advance(5 * time.Second)
	s.Set("curate", 20, 0)
	fmt.Fprintln(log, "curate done")
	s.Done()
	s.Done()
	want := `synth running
[synth] 4 / 8  50% ETA 5s 0.80/s
[synth] 8 / 8 100% 1.3/s
synth done
curate running
[curate] 10 2.0/s
curate: a retry
[curate] 20 2.0/s
curate done
`
	if out.String() != want {
		t.Errorf("output\n%s\nwant\n%s", out.String(), want)
	}
}

// A log gets a line at least every LogEvery while work goes on, even when
// an item takes minutes; the ETA is unknown until a rate is measured.
func TestHeartbeat(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := New(&out, Options{Label: "synth", Total: 4, LogEvery: 10 * time.Second, Now: c.now})
	b.Set(0)
	for range 12 { // one model request held for 60 s, the heartbeat ticking each 5 s
		c.advance(5 * time.Second)
		b.Beat()
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines in 60 s, want one each 10 s:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "ETA unknown") || !strings.Contains(lines[1], "working; 20s since the last change") ||
		!strings.Contains(lines[5], "1m0s since the last change") {
		t.Errorf("lines:\n%s", out.String())
	}
	b.Set(1)
	c.advance(10 * time.Second)
	b.Beat()
	if last := strings.TrimSpace(out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:]); !strings.Contains(last, "1 / 4") || !strings.Contains(last, "ETA") || strings.Contains(last, "unknown") {
		t.Errorf("after progress: %q", last)
	}
	// Stages beat the running stage's bar.
	out.Reset()
	s := NewStages(&out, Options{LogEvery: 10 * time.Second, Now: c.now}, nil)
	s.Set("synth", 0, 4)
	c.advance(11 * time.Second)
	s.Beat()
	if !strings.Contains(out.String(), "synth 0 / 4") {
		t.Errorf("stages heartbeat: %q", out.String())
	}
}

func TestNote(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := New(&out, Options{Label: "synth", Total: 2, LogEvery: time.Second, Now: c.now})
	b.SetNote(func() string { return "120 tokens received, 30/s" })
	c.advance(2 * time.Second)
	b.Set(1)
	if !strings.Contains(out.String(), "synth 1 / 2") || !strings.Contains(out.String(), " · 120 tokens received, 30/s") {
		t.Errorf("line %q", out.String())
	}
}
