// Package synth generates synthetic training examples from chunks with a
// local model, in a persona's voice: question/answer pairs and multi-turn
// conversations through JSON-schema structured output, re-asked when a
// reply is invalid, cached by content so that an interrupted run resumes,
// with bounded parallel requests and backoff. It also curates examples with
// an LLM judge.
package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one structured chat request.
type Request struct {
	Model       string
	Messages    []Message
	Schema      json.RawMessage
	Temperature float64
	Seed        int
	MaxTokens   int
}

// Reply is a model's answer with its usage.
type Reply struct {
	Content   string
	Cut       bool // stopped by the token limit
	TokensIn  int
	TokensOut int
}

// ModelInfo is what preflight learns about the model.
type ModelInfo struct {
	ContextLength int
}

// Backend is a chat server. Errors that a retry may cure are *RetryError.
type Backend interface {
	Chat(ctx context.Context, r Request) (Reply, error)
	Preflight(ctx context.Context, model string, pull bool) (ModelInfo, error)
}

// RetryError marks a failure worth retrying (network, overload, 5xx).
type RetryError struct{ Err error }

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// retryable classifies transport and status errors.
func retryable(err error, status int) bool {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status >= 500 {
		return true
	}
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF")
}

// unreachable says what to do when the server cannot be reached.
func unreachable(host string, err error) error {
	return fmt.Errorf("cannot reach Ollama at %s: %v — is `ollama serve` running? (set --host or OLLAMA_HOST)", host, err)
}

// Ollama talks to an Ollama server through its native API.
type Ollama struct {
	Host   string
	client *api.Client
	hc     *http.Client
}

// NewOllama returns a backend for the server at host (http://127.0.0.1:11434).
func NewOllama(host string) (*Ollama, error) {
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--host %q: want a URL like http://127.0.0.1:11434", host)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 0}}
	return &Ollama{Host: host, client: api.NewClient(u, hc), hc: hc}, nil
}

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

// OpenAI talks to an OpenAI-compatible server (vLLM, llama.cpp server,
// SGLang, Ollama's /v1) through /chat/completions with a json_schema
// response format.
type OpenAI struct {
	BaseURL string
	APIKey  string
	hc      *http.Client
}

// NewOpenAI returns a backend for base (http://host:8000/v1).
func NewOpenAI(base, key string) (*OpenAI, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--base-url %q: want a URL like http://127.0.0.1:8000/v1", base)
	}
	return &OpenAI{BaseURL: strings.TrimRight(base, "/"), APIKey: key, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, nil
}

func (o *OpenAI) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.BaseURL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: bad JSON: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Chat sends one chat completion.
func (o *OpenAI) Chat(ctx context.Context, r Request) (Reply, error) {
	body := map[string]any{"model": r.Model, "messages": r.Messages, "temperature": r.Temperature, "seed": r.Seed, "stream": false,
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "reply", "schema": r.Schema, "strict": true}}}
	if r.MaxTokens > 0 {
		body["max_tokens"] = r.MaxTokens
	}
	var out struct {
		Choices []struct {
			Message      Message `json:"message"`
			FinishReason string  `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	status, err := o.do(ctx, http.MethodPost, "/chat/completions", body, &out)
	if err != nil {
		if ctx.Err() == nil && retryable(err, status) {
			return Reply{}, &RetryError{err}
		}
		return Reply{}, err
	}
	if len(out.Choices) == 0 {
		return Reply{}, &RetryError{fmt.Errorf("no choices in the reply")}
	}
	c := out.Choices[0]
	return Reply{Content: c.Message.Content, Cut: c.FinishReason == "length", TokensIn: out.Usage.PromptTokens, TokensOut: out.Usage.CompletionTokens}, nil
}

// Preflight checks that the server answers and lists the model.
func (o *OpenAI) Preflight(ctx context.Context, model string, _ bool) (ModelInfo, error) {
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if _, err := o.do(ctx, http.MethodGet, "/models", nil, &out); err != nil {
		return ModelInfo{}, fmt.Errorf("cannot reach the OpenAI-compatible server at %s: %v", o.BaseURL, err)
	}
	for _, m := range out.Data {
		if m.ID == model || strings.TrimSuffix(m.ID, ":latest") == strings.TrimSuffix(model, ":latest") {
			return ModelInfo{ContextLength: 4096}, nil
		}
	}
	var ids []string
	for _, m := range out.Data {
		ids = append(ids, m.ID)
	}
	return ModelInfo{}, fmt.Errorf("model %q is not served at %s (it serves: %s)", model, o.BaseURL, strings.Join(ids, ", "))
}

// backoff is the wait before retry n (1-based): exponential from base,
// capped at 20 s, with jitter.
func backoff(base time.Duration, n int, jitter float64) time.Duration {
	d := base << min(n-1, 7)
	d = min(d, 20*time.Second)
	return time.Duration(float64(d) * (0.75 + 0.5*jitter))
}

// Send makes one request with a per-request timeout and retries what a
// retry may cure — network errors, overload, 5xx, timeouts — up to tries
// requests in all, waiting an exponential backoff from base (with jitter).
// It returns the last reply and error and the number of requests made. A
// timeout or base of 0 means 5 minutes and 250 ms.
func Send(ctx context.Context, b Backend, r Request, timeout, base time.Duration, tries int, jitter func() float64) (Reply, int, error) {
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	for n := 1; ; n++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		rep, err := b.Chat(rctx, r)
		timedOut := rctx.Err() == context.DeadlineExceeded
		cancel()
		if ctx.Err() != nil {
			return rep, n, ctx.Err()
		}
		if err == nil {
			return rep, n, nil
		}
		var re *RetryError
		if (!errors.As(err, &re) && !timedOut) || n >= tries {
			return rep, n, err
		}
		select {
		case <-time.After(backoff(base, n, jitter())):
		case <-ctx.Done():
			return rep, n, ctx.Err()
		}
	}
}
