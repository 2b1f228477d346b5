package transcript

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Rolling-caption collapse is linear: a 2 MB WebVTT of two cues of
// 150,000 lines each, the second reversed, took 31 s (each line looked up
// by scanning the previous cue); it must end well within 10 s (issue 29,
// case 16). The second cue is dropped whole: it only repeats the first.
func TestRollingCollapseLinear(t *testing.T) {
	const n = 150_000
	var b strings.Builder
	b.WriteString("WEBVTT\n\n00:00.000 --> 00:01.000\n")
	for i := range n {
		fmt.Fprintf(&b, "l%d\n", i)
	}
	b.WriteString("\n00:01.000 --> 00:02.000\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "l%d\n", i)
	}
	done := make(chan int, 1)
	go func() {
		lines, _ := Parse([]byte(b.String()), KindWebVTT)
		done <- len(lines)
	}()
	select {
	case got := <-done:
		if got != n {
			t.Errorf("%d lines, want %d", got, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still collapsing after 10 s: quadratic")
	}
}
