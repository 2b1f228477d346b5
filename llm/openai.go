package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tuneline/tuneline/internal/setting"
)

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
		return nil, &setting.Error{Section: "ollama", Key: "base_url", Flag: "base-url", Value: strconv.Quote(base), Problem: "want a URL like http://127.0.0.1:8000/v1"}
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
		return resp.StatusCode, &httpError{resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))}
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
	body := chatBody(r)
	var out chatCompletion
	status, err := o.do(ctx, http.MethodPost, "/chat/completions", body, &out)
	if err != nil {
		if ctx.Err() == nil && retryable(err, status) {
			return Reply{}, &RetryError{err}
		}
		return Reply{}, err
	}
	rep, err := out.reply()
	if err != nil {
		return Reply{}, &RetryError{err}
	}
	activityFrom(ctx).addTokens(out.Usage.CompletionTokens)
	return rep, nil
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
			return ModelInfo{ContextLength: OpenAIContextLength}, nil
		}
	}
	var ids []string
	for _, m := range out.Data {
		ids = append(ids, m.ID)
	}
	return ModelInfo{}, fmt.Errorf("model %q is not served at %s (it serves: %s)", model, o.BaseURL, strings.Join(ids, ", "))
}
