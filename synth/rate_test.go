package synth

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tuneline/tuneline/llm"
)

// clocked is a backend on a fake clock: preflight takes 2 s, every reply 1 s
// in which it streams 60 tokens (and reports 20 as its usage, so that the
// rate cannot come from the usage).
type clocked struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clocked) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clocked) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *clocked) Preflight(context.Context, string, bool) (llm.ModelInfo, error) {
	c.advance(2 * time.Second)
	return llm.ModelInfo{ContextLength: 8192}, nil
}

func (c *clocked) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	for range 2 {
		c.advance(500 * time.Millisecond)
		llm.ReportTokens(ctx, 30)
	}
	return qaReply(r)
}

// One token timeline, one figure: the progress line's last note and the
// summary give the same tokens received and the same tokens/s, from the
// tokens streamed over the time since the run started (preflight
// included): 6 replies of 60 tokens in 2 + 6 s is 360 tokens, 45/s.
func TestTokenRateOneDefinition(t *testing.T) {
	chunks := writeChunks(t, 3)
	b := &clocked{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	act := llm.NewActivity()
	ctx := llm.WithActivity(context.Background(), act)
	var note string
	var first *Summary
	opt := Options{Model: "clocked", Persona: testPersona(t), Backend: b, PairsPerChunk: 2, Conversations: 1, Turns: 2,
		Parallel: 1, Seed: 3, CacheDir: t.TempDir(), Clock: b.clock, Progress: func(s *Summary) {
			if first == nil {
				c := *s
				first = &c
			}
			note = act.Note()
		}}
	var out bytes.Buffer
	sum, err := Run(ctx, chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	// The first progress call comes before any reply, with every task
	// counted: the line shows its share (and "ETA unknown") from the start.
	if first == nil || first.Tasks != 6 || first.TasksDone != 0 || first.Requests != 0 {
		t.Errorf("first progress %+v: want 6 tasks, none done, before any request", first)
	}
	if sum.Requests != 6 || sum.TokensOut != 120 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.TokensReceived != 360 || sum.TokensOutPerS != 45 || sum.Seconds != 8 {
		t.Errorf("summary: %d tokens received, %v/s over %v s; want 360, 45/s over 8 s", sum.TokensReceived, sum.TokensOutPerS, sum.Seconds)
	}
	want := llm.RateNote(sum.TokensReceived, sum.TokensOutPerS)
	if want != "360 tokens received, 45/s" || !strings.HasPrefix(note, want) {
		t.Errorf("last progress note %q, summary's figure %q", note, want)
	}
}
