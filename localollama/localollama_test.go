package localollama_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/internal/testenv"
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
