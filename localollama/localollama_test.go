package localollama

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"net/http"
	"net/url"
)

// A real ollama serves the tiny model, and a JSON-schema format gives
// schema-valid replies from random weights.
func TestTinyModelStructuredOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.CreateTiny(ctx, "tiny"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.URL)
	c := api.NewClient(u, http.DefaultClient)
	schema := json.RawMessage(`{"type":"object","properties":{"question":{"type":"string","maxLength":40},"answer":{"type":"string","maxLength":80}},"required":["question","answer"]}`)
	valid := 0
	for i := range 5 {
		var out string
		stream := false
		err := c.Chat(ctx, &api.ChatRequest{Model: "tiny", Stream: &stream, Format: schema,
			Messages: []api.Message{{Role: "user", Content: "Ask and answer a question about light."}},
			Options:  map[string]any{"seed": i, "num_predict": 200, "temperature": 0.8}}, func(r api.ChatResponse) error {
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
}
