package localollama_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Shutdown()
	os.Exit(code)
}

// A real ollama (installed, started and given the tiny model by this
// package, through testenv) serves schema-valid replies from random weights.
func TestTinyModelStructuredOutput(t *testing.T) {
	s := testenv.Ollama(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	u, _ := url.Parse(s.URL)
	c := api.NewClient(u, http.DefaultClient)
	schema := json.RawMessage(`{"type":"object","properties":{"question":{"type":"string","maxLength":40},"answer":{"type":"string","maxLength":80}},"required":["question","answer"]}`)
	valid := 0
	for i := range 5 {
		var out string
		stream := false
		err := c.Chat(ctx, &api.ChatRequest{Model: testenv.TinyModel, Stream: &stream, Format: schema,
			Messages: []api.Message{{Role: "user", Content: "Ask and answer a question about light."}},
			Options:  map[string]any{"seed": i, "num_predict": 400, "temperature": 0.8}}, func(r api.ChatResponse) error {
			out += r.Message.Content
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var qa struct{ Question, Answer *string }
		if json.Unmarshal([]byte(out), &qa) == nil && qa.Question != nil && qa.Answer != nil {
			valid++
		} else {
			t.Logf("reply %d not schema-valid: %q", i, out)
		}
	}
	if valid < 5 {
		t.Errorf("%d of 5 replies schema-valid", valid)
	}
	if s.Exited() {
		t.Error("server exited")
	}
}

// A model the server lacks is named with what the server has and how to
// get it: the stage commands' preflight and the run's discovery (with
// ollama.local never) say the same.
func TestMissingModelListsServerModels(t *testing.T) {
	s := testenv.Ollama(t)
	o, err := llm.NewOllama(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Preflight(context.Background(), "llama3.2", false)
	var missing *llm.MissingModelError
	if !errors.As(err, &missing) || !slices.Contains(missing.Has, testenv.TinyModel+":latest") {
		t.Fatalf("preflight of a missing model: %v", err)
	}
	_, err = localollama.Discover(context.Background(), s.URL, "llama3.2", localollama.LocalNever, t.TempDir(), io.Discard)
	for _, want := range []string{`model "llama3.2" is not on the Ollama server`, "it has " + testenv.TinyModel + ":latest", "ollama pull llama3.2", "--pull"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("discover of a missing model: %v lacks %q", err, want)
		}
	}
}
