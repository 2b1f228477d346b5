package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ollama/ollama/api"
)

// Ollama talks to an Ollama server through its native API.
type Ollama struct {
	Host   string
	client *api.Client
	hc     *http.Client
}

// NewOllama returns a backend for the Ollama server at host, read as Ollama
// reads OLLAMA_HOST ("127.0.0.1", "myhost:8080", "http://h:11434"; empty:
// the environment's).
func NewOllama(host string) (*Ollama, error) {
	h, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(h)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", host, err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 0}}
	return &Ollama{Host: h, client: api.NewClient(u, hc), hc: hc}, nil
}

// API is the underlying Ollama API client, for calls this package does not
// wrap (tests list and show models with it).
func (o *Ollama) API() *api.Client { return o.client }

// Chat sends one non-streaming chat request.
func (o *Ollama) Chat(ctx context.Context, r Request) (Reply, error) {
	msgs := make([]api.Message, len(r.Messages))
	for i, m := range r.Messages {
		msgs[i] = api.Message{Role: m.Role, Content: m.Content}
	}
	stream := false
	opts := map[string]any{"temperature": r.Temperature, "seed": r.Seed}
	if r.MaxTokens > 0 {
		opts["num_predict"] = r.MaxTokens
	}
	var rep Reply
	var content strings.Builder
	err := o.client.Chat(ctx, &api.ChatRequest{Model: r.Model, Messages: msgs, Stream: &stream, Format: r.Schema, Options: opts},
		func(cr api.ChatResponse) error {
			content.WriteString(cr.Message.Content)
			if cr.Done {
				rep.Cut = cr.DoneReason == "length"
				rep.TokensIn, rep.TokensOut = cr.PromptEvalCount, cr.EvalCount
			}
			return nil
		})
	rep.Content = content.String()
	if err != nil {
		if ctx.Err() != nil {
			return rep, err
		}
		// A status the server chose (400 bad request, 404 no such model)
		// will not change on retry; anything else — 429, 5xx, a dropped
		// connection, a body that is not the API's JSON — may.
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode < 500 && se.StatusCode != http.StatusTooManyRequests {
			return rep, err
		}
		return rep, &RetryError{err}
	}
	return rep, nil
}

// Preflight checks that the server answers and has the model (pulling it
// when asked), and reads its context length.
func (o *Ollama) Preflight(ctx context.Context, model string, pull bool) (ModelInfo, error) {
	if _, err := o.client.Version(ctx); err != nil {
		return ModelInfo{}, unreachable(o.Host, err)
	}
	show, err := o.client.Show(ctx, &api.ShowRequest{Model: model})
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			if !pull {
				return ModelInfo{}, fmt.Errorf("model %q is not on the Ollama server at %s — run `ollama pull %s`, or pass --pull", model, o.Host, model)
			}
			if err := o.client.Pull(ctx, &api.PullRequest{Model: model}, func(api.ProgressResponse) error { return nil }); err != nil {
				return ModelInfo{}, fmt.Errorf("pull %s: %w", model, err)
			}
			show, err = o.client.Show(ctx, &api.ShowRequest{Model: model})
		}
		if err != nil {
			return ModelInfo{}, fmt.Errorf("show %s: %w", model, err)
		}
	}
	info := ModelInfo{ContextLength: 2048}
	for k, v := range show.ModelInfo {
		if strings.HasSuffix(k, ".context_length") {
			if f, ok := v.(float64); ok && f > 0 {
				info.ContextLength = int(f)
			}
		}
	}
	// A num_ctx parameter in the model's Modelfile is what the server uses.
	for _, line := range strings.Split(show.Parameters, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "num_ctx" {
			var n int
			if _, err := fmt.Sscan(f[1], &n); err == nil && n > 0 {
				info.ContextLength = min(info.ContextLength, n)
			}
		}
	}
	return info, nil
}
