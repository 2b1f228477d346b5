package synth

// Fast unit tests of the logic that is otherwise reached only through a real
// Ollama: reply decoding and validation, retry and backoff decisions, prompt
// and request planning, and a whole run against a scripted backend. The
// real-server tests (synth_test.go, faults_test.go) stay the proof.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/tokens"
)

func TestValidateQA(t *testing.T) {
	lim := Limits{QuestionChars: 100, AnswerChars: 100}
	for _, tt := range []struct {
		name, reply string
		n           int
		err         string // "" when valid
	}{
		{"valid", `{"pairs":[{"type":"factual","question":" Why? ","answer":"Because."}]}`, 1, ""},
		{"empty", "  ", 1, "the reply is empty"},
		{"not json", `{"pairs":[`, 1, "not valid JSON"},
		{"too few", `{"pairs":[]}`, 1, "expected 1 pairs, got 0"},
		{"too many", `{"pairs":[{"type":"factual","question":"q","answer":"a"},{"type":"factual","question":"q","answer":"a"}]}`, 1, "expected 1 pairs, got 2"},
		{"empty answer", `{"pairs":[{"type":"factual","question":"q","answer":"  "}]}`, 1, "pairs[0]: question and answer must not be empty"},
		{"unknown type", `{"pairs":[{"type":"trivia","question":"q","answer":"a"}]}`, 1, `pairs[0]: type "trivia"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pairs, err := validateQA(tt.reply, tt.n, lim)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if pairs[0].Question != "Why?" {
					t.Errorf("question not trimmed: %q", pairs[0].Question)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestValidateConv(t *testing.T) {
	for _, tt := range []struct {
		reply string
		turns int
		err   string
	}{
		{`{"turns":[{"user":"u","assistant":"a"},{"user":"u2","assistant":"a2"}]}`, 2, ""},
		{`{"turns":[{"user":"u","assistant":"a"}]}`, 2, "expected 2 turns, got 1"},
		{`{"turns":[{"user":"","assistant":"a"}]}`, 1, "turns[0]: user and assistant must not be empty"},
		{`[]`, 1, "not valid JSON"},
	} {
		_, err := validateConv(tt.reply, tt.turns)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("validateConv(%s): %v, want %q", tt.reply, err, tt.err)
		}
	}
}

// scripted is a Backend that answers from a script, one function per call
// in order (the last one repeats), and counts the calls.
type scripted struct {
	mu    sync.Mutex
	calls int
	reqs  []llm.Request
	steps []func(llm.Request) (llm.Reply, error)
}

func (s *scripted) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	s.mu.Lock()
	i := min(s.calls, len(s.steps)-1)
	s.calls++
	s.reqs = append(s.reqs, r)
	step := s.steps[i]
	s.mu.Unlock()
	return step(r)
}

func (s *scripted) Preflight(context.Context, string, bool) (llm.ModelInfo, error) {
	return llm.ModelInfo{ContextLength: 8192}, nil
}

func fail(err error) func(llm.Request) (llm.Reply, error) {
	return func(llm.Request) (llm.Reply, error) { return llm.Reply{}, err }
}

func testPersona(t *testing.T) *persona.Persona {
	t.Helper()
	p, err := persona.Load("testdata/persona.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanRequest(t *testing.T) {
	p := testPersona(t)
	tc := tokens.NewCounter()
	opt := &Options{Model: "m", Persona: p, Limits: Limits{QuestionChars: 50, AnswerChars: 100}, Seed: 1, Temperature: 0.7}
	chunk := &datasets.Chunk{ID: "c1", Seq: 2, Text: "Light is a wave and a particle.", Tokens: 9}
	req, key := plan(&task{chunk: chunk, kind: "qa", n: 3}, opt, llm.ModelInfo{ContextLength: 8192}, tc)
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.Contains(req.Messages[0].Content, p.Voice()) {
		t.Fatalf("system prompt lacks the persona: %+v", req.Messages)
	}
	user := req.Messages[1].Content
	if !strings.Contains(req.Messages[0].Content, chunk.Text) || !strings.Contains(user, "Write 3 question/answer pairs") {
		t.Errorf("prompt: %+v", req.Messages)
	}
	// Every task of the chunk shares the system message byte for byte
	// (the server's prompt cache holds it once); only the user message,
	// the task, differs.
	for _, other := range []*task{{chunk: chunk, kind: "conversation", n: 4}, {chunk: chunk, kind: "preference", n: 2}} {
		r, _ := plan(other, opt, llm.ModelInfo{ContextLength: 8192}, tc)
		if r.Messages[0].Content != req.Messages[0].Content || r.Messages[1].Content == user {
			t.Errorf("%s: system message differs from the Q&A task's, or the task is the same", other.kind)
		}
	}
	// Question types rotate from the chunk's sequence number.
	if want := strings.Join([]string{QuestionTypes[2%len(QuestionTypes)], QuestionTypes[3%len(QuestionTypes)], QuestionTypes[4%len(QuestionTypes)]}, ", "); !strings.Contains(user, want) {
		t.Errorf("user prompt lacks types %q: %s", want, user)
	}
	var schema struct {
		Properties struct {
			Pairs struct{ MinItems, MaxItems int }
		}
	}
	if err := json.Unmarshal(req.Schema, &schema); err != nil || schema.Properties.Pairs.MinItems != 3 || schema.Properties.Pairs.MaxItems != 3 {
		t.Errorf("schema %s (%v)", req.Schema, err)
	}
	if req.MaxTokens != 3*(50+100+300)+100 || req.Model != "m" || req.Temperature != 0.7 {
		t.Errorf("request %+v", req)
	}
	// The cache key and seed follow the chunk's text, not its id.
	moved := *chunk
	moved.ID = "c9"
	req2, key2 := plan(&task{chunk: &moved, kind: "qa", n: 3}, opt, llm.ModelInfo{ContextLength: 8192}, tc)
	if key2 != key || req2.Seed != req.Seed {
		t.Error("same text under another id changed the key or seed")
	}
	edited := *chunk
	edited.Text += " It bends around corners."
	if _, key3 := plan(&task{chunk: &edited, kind: "qa", n: 3}, opt, llm.ModelInfo{ContextLength: 8192}, tc); key3 == key {
		t.Error("edited text kept the key")
	}
	// The reply budget is at most half the context, and the passage is
	// cut to fit what is left.
	long := &datasets.Chunk{ID: "c2", Text: strings.Repeat("photon ", 3000), Tokens: 3000}
	req, _ = plan(&task{chunk: long, kind: "qa", n: 3}, opt, llm.ModelInfo{ContextLength: 2048}, tc)
	if req.MaxTokens != 1024 {
		t.Errorf("reply budget %d, want half of 2048", req.MaxTokens)
	}
	if n := tc.Count(req.Messages[1].Content); n > 2048 {
		t.Errorf("user prompt of %d tokens does not fit a 2048 context", n)
	}
}

// qaReply answers a request's schema with valid pairs.
func qaReply(r llm.Request) (llm.Reply, error) {
	var s struct {
		Properties struct {
			Pairs struct{ MinItems int }
			Turns struct{ MinItems int }
		}
	}
	json.Unmarshal(r.Schema, &s)
	if n := s.Properties.Turns.MinItems; n > 0 {
		turns := make([]Turn, n)
		for i := range turns {
			turns[i] = Turn{User: fmt.Sprintf("u%d", i), Assistant: fmt.Sprintf("a%d", i)}
		}
		b, _ := json.Marshal(map[string]any{"turns": turns})
		return llm.Reply{Content: string(b), TokensOut: 20}, nil
	}
	pairs := make([]QAPair, s.Properties.Pairs.MinItems)
	for i := range pairs {
		pairs[i] = QAPair{Type: QuestionTypes[0], Question: fmt.Sprintf("q%d %d?", i, r.Seed), Answer: "an answer"}
	}
	b, _ := json.Marshal(map[string]any{"pairs": pairs})
	return llm.Reply{Content: string(b), TokensOut: 20}, nil
}

// A whole run against a scripted backend: an invalid reply is re-asked with
// the reason, a cut reply too, every chunk yields its examples, and a
// second run takes everything from the cache.
func TestRunScripted(t *testing.T) {
	chunks := writeChunks(t, 3)
	first := true
	var mu sync.Mutex
	invalidOnce := func(r llm.Request) (llm.Reply, error) {
		mu.Lock()
		defer mu.Unlock()
		if first {
			first = false
			return llm.Reply{Content: `{"pairs":[]}`}, nil
		}
		return qaReply(r)
	}
	b := &scripted{steps: []func(llm.Request) (llm.Reply, error){invalidOnce}}
	opt := Options{Model: "scripted", Persona: testPersona(t), Backend: b, PairsPerChunk: 2, Conversations: 1, Turns: 2,
		Parallel: 1, Seed: 3, CacheDir: t.TempDir()}
	var out bytes.Buffer
	sum, err := Run(context.Background(), chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	exs := readExamples(t, out.Bytes())
	if sum.Tasks != 6 || sum.TasksDone != 6 || len(exs) != 3*2+3 || sum.Examples != len(exs) {
		t.Fatalf("summary %+v, %d examples", sum, len(exs))
	}
	if sum.Reasked != 1 || sum.Requests != 7 {
		t.Errorf("requests %d, re-asked %d: want 7 and 1", sum.Requests, sum.Reasked)
	}
	// The re-ask carries the validation error to the model.
	var reask *llm.Request
	for i := range b.reqs {
		if len(b.reqs[i].Messages) > 2 {
			reask = &b.reqs[i]
			break
		}
	}
	if reask == nil || !strings.Contains(reask.Messages[len(reask.Messages)-1].Content, "expected 2 pairs, got 0") {
		t.Errorf("no re-ask with the reason: %+v", reask)
	}
	for _, ex := range exs {
		if ex.Messages[0].Role != "system" || ex.Messages[len(ex.Messages)-1].Role != "assistant" {
			t.Errorf("example %s: roles %v", ex.ID, ex.Messages)
		}
	}
	// Again: nothing is asked, the same examples come out.
	b2 := &scripted{steps: []func(llm.Request) (llm.Reply, error){fail(errors.New("must not be called"))}}
	opt.Backend = b2
	var out2 bytes.Buffer
	sum2, err := Run(context.Background(), chunks, opt, &out2)
	if err != nil {
		t.Fatal(err)
	}
	if b2.calls != 0 || sum2.Cached != 6 || !bytes.Equal(out.Bytes(), out2.Bytes()) {
		t.Errorf("second run: %d calls, %d cached, same output %v", b2.calls, sum2.Cached, bytes.Equal(out.Bytes(), out2.Bytes()))
	}
}
