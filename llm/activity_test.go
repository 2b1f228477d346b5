package llm

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A status shown (a pool's level) is in every note, with or without
// tokens and retries, until it is taken away.
func TestActivityNoteShowsStatus(t *testing.T) {
	a := NewActivity()
	ctx := WithActivity(context.Background(), a)
	p, err := Open(Config{Hosts: []string{"http://127.0.0.1:9"}, Parallel: "3"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ShowStatus(ctx, p.StatusLine)
	if n := a.Note(); n != "parallel 3 (fixed at 3)" {
		t.Errorf("note %q", n)
	}
	a.addTokens(40)
	a.retry("HTTP 503")
	if n := a.Note(); !strings.HasPrefix(n, "40 tokens received") || !strings.Contains(n, "retry 1") || !strings.HasSuffix(n, "; parallel 3 (fixed at 3)") {
		t.Errorf("note %q", n)
	}
	ShowStatus(ctx, nil)
	if n := a.Note(); strings.Contains(n, "parallel") {
		t.Errorf("note %q after the status was taken away", n)
	}
	ShowStatus(context.Background(), p.StatusLine) // no activity: nothing to do
}

// A new meter (a new stage of tuneline run) restarts the note's count and
// rate; without an activity, StartMeter attaches one, so tokens are counted.
func TestStartMeter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := NewActivity()
	ctx := WithActivity(context.Background(), a)
	ctx, m := StartMeter(ctx, clock)
	ReportTokens(ctx, 100)
	now = now.Add(4 * time.Second)
	if n := a.Note(); n != "100 tokens received, 25/s" || m.Rate() != 25 {
		t.Errorf("note %q, rate %v", n, m.Rate())
	}
	_, m2 := StartMeter(ctx, clock)
	if n := a.Note(); n != "" || m2.Tokens() != 0 {
		t.Errorf("after a new meter: note %q, %d tokens", n, m2.Tokens())
	}
	bare, m3 := StartMeter(context.Background(), clock)
	ReportTokens(bare, 7)
	if m3.Tokens() != 7 || m3.Rate() != 0 {
		t.Errorf("meter without an activity: %d tokens, %v/s", m3.Tokens(), m3.Rate())
	}
}
