package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// streamer is an Ollama /api/chat stand-in that streams the given chunks,
// waiting gap before each, then (unless stall) the done line.
func streamer(chunks []string, gap time.Duration, stall bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, c := range chunks {
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
			enc.Encode(map[string]any{"model": "m", "message": map[string]string{"role": "assistant", "content": c}, "done": false})
			w.(http.Flusher).Flush()
		}
		if stall {
			<-r.Context().Done()
			return
		}
		enc.Encode(map[string]any{"model": "m", "message": map[string]string{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "eval_count": len(chunks), "prompt_eval_count": 7})
	}))
}

// A reply that keeps streaming is waited for however long it takes; one
// whose server falls silent is given up after Silence, as a retryable
// error that says so.
func TestOllamaSilence(t *testing.T) {
	slow := streamer([]string{"a", "b", "c", "d", "e", "f"}, 60*time.Millisecond, false)
	defer slow.Close()
	o, err := NewOllama(slow.URL)
	if err != nil {
		t.Fatal(err)
	}
	o.Silence = 200 * time.Millisecond // shorter than the whole reply (360 ms), longer than a gap
	rep, err := o.Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
	if err != nil || rep.Content != "abcdef" || rep.TokensOut != 6 || rep.TokensIn != 7 {
		t.Fatalf("slow but steady: %+v %v", rep, err)
	}

	stuck := streamer([]string{"a"}, 10*time.Millisecond, true)
	defer stuck.Close()
	o, _ = NewOllama(stuck.URL)
	o.Silence = 200 * time.Millisecond
	start := time.Now()
	_, err = o.Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
	var re *RetryError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "sent nothing for 200ms") {
		t.Fatalf("stuck server: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// The activity of a run counts streamed tokens as they come and names the
// last retry with its reason, for the progress line.
func TestActivity(t *testing.T) {
	s := streamer([]string{"a", "b", "c"}, time.Millisecond, false)
	defer s.Close()
	o, _ := NewOllama(s.URL)
	act := NewActivity()
	ctx := WithActivity(context.Background(), act)
	if _, err := o.Chat(ctx, Request{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if n := act.Note(); !strings.HasPrefix(n, "3 tokens received") {
		t.Errorf("note %q", n)
	}
	b := &scripted{steps: []func(Request) (Reply, error){fail(&RetryError{errors.New("503 server busy")}), ok("x")}}
	if _, _, err := Send(ctx, b, Request{}, time.Second, time.Millisecond, 3, func() float64 { return 0.5 }); err != nil {
		t.Fatal(err)
	}
	if n := act.Note(); !strings.Contains(n, "retry 1") || !strings.Contains(n, "503 server busy") {
		t.Errorf("note %q", n)
	}
	if (*Activity)(nil).Note() != "" {
		t.Error("a nil activity has a note")
	}
}

func TestActivityPhase(t *testing.T) {
	act := NewActivity()
	ctx := WithActivity(context.Background(), act)
	SetPhase(ctx, "building Ollama")
	if act.Note() != "building Ollama" {
		t.Errorf("note %q", act.Note())
	}
	SetPhase(ctx, "")
	SetPhase(context.Background(), "no activity: nothing happens")
	if act.Note() != "" {
		t.Errorf("note %q after the phase ended", act.Note())
	}
}
