package llm

import (
	"context"
	"strings"
	"testing"
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
