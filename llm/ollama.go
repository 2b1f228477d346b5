package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// Ollama talks to an Ollama server through its native API.
type Ollama struct {
	Host string
	// Silence ends a request that has sent no token for this long (0:
	// never): replies stream, so a slow machine that keeps writing is
	// waited for however long the reply takes, and a stuck one is not.
	Silence time.Duration
	client  *api.Client
	hc      *http.Client
}

// errSilent ends a request whose server stopped sending.
var errSilent = errors.New("the server sent nothing")

// errEndedEarly: the reply stream stopped before the server said done.
var errEndedEarly = errors.New("the reply ended before the server said it was done")

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
	stream := true
	opts := map[string]any{"temperature": r.Temperature, "seed": r.Seed}
	if r.MaxTokens > 0 {
		opts["num_predict"] = r.MaxTokens
	}
	var rep Reply
	var content strings.Builder
	parent := ctx
	act := activityFrom(ctx)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var timer *time.Timer
	done := false
	if o.Silence > 0 {
		timer = time.AfterFunc(o.Silence, func() { cancel(errSilent) })
		defer timer.Stop()
	}
	t0 := time.Now()
	err := o.client.Chat(ctx, &api.ChatRequest{Model: r.Model, Messages: msgs, Stream: &stream, Format: r.Schema, Options: opts},
		func(cr api.ChatResponse) error {
			if timer != nil {
				timer.Reset(o.Silence)
			}
			if cr.Message.Content != "" {
				act.addTokens(1) // a streamed chunk is a token
				tapTokens(parent, 1)
			}
			content.WriteString(cr.Message.Content)
			if cr.Done {
				done = true
				rep.Cut = cr.DoneReason == "length"
				rep.TokensIn, rep.TokensOut = cr.PromptEvalCount, cr.EvalCount
				if trace {
					traceReply(o.Host, t0, cr.Metrics)
				}
			}
			return nil
		})
	rep.Content = content.String()
	if parent.Err() != nil {
		return rep, parent.Err()
	}
	if errors.Is(context.Cause(ctx), errSilent) {
		return rep, &RetryError{fmt.Errorf("%w for %s (%s): the request was given up", errSilent, o.Silence, o.Host)}
	}
	if err == nil && !done {
		return rep, &RetryError{fmt.Errorf("%s: %w", o.Host, errEndedEarly)}
	}
	if err != nil {
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

// traceReply writes one line for a reply: when it was sent and how long
// the server took to load, read the prompt and write the reply.
func traceReply(host string, t0 time.Time, m api.Metrics) {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Fprintf(os.Stderr, "reply %s: sent %s, %.0f ms: load %.0f ms, prompt %d tokens evaluated in %.0f ms, %d tokens in %.0f ms (%.0f/s)\n",
		host, t0.Format("15:04:05.000"), ms(time.Since(t0)), ms(m.LoadDuration), m.PromptEvalCount, ms(m.PromptEvalDuration),
		m.EvalCount, ms(m.EvalDuration), float64(m.EvalCount)/max(m.EvalDuration.Seconds(), 1e-9))
}

// MissingModelError says a server lacks a model, and what it has.
type MissingModelError struct {
	Model, Host string
	Has         []string // the server's models (nil when it would not list them)
}

func (e *MissingModelError) Error() string {
	has := "it has no model"
	if len(e.Has) > 0 {
		has = "it has " + strings.Join(e.Has, ", ")
	}
	return fmt.Sprintf("model %q is not on the Ollama server at %s (%s): run `ollama pull %s` (or pass --pull), or name one it has", e.Model, e.Host, has, e.Model)
}

// modelNames lists the server's models, sorted (nil when it will not say).
func (o *Ollama) modelNames(ctx context.Context) []string {
	list, err := o.client.List(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, m := range list.Models {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

// Preflight checks that the server answers and has the model (pulling it
// when asked), and reads its context length.
func (o *Ollama) Preflight(ctx context.Context, model string, pull bool) (ModelInfo, error) {
	if _, err := o.client.Version(ctx); err != nil {
		return ModelInfo{}, unreachable(o.Host, err)
	}
	show, err := o.client.Show(ctx, &api.ShowRequest{Model: model})
	for try := 0; err != nil && try < 2 && ctx.Err() == nil && retryable(err, 0); try++ {
		// A kept-alive connection the server (or a proxy) had just closed
		// fails the request with EOF: ask again on a fresh one.
		time.Sleep(100 * time.Millisecond)
		show, err = o.client.Show(ctx, &api.ShowRequest{Model: model})
	}
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			if !pull {
				return ModelInfo{}, &MissingModelError{Model: model, Host: o.Host, Has: o.modelNames(ctx)}
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

// Reload unloads the model and loads it again, so that its runner starts
// with empty prompt caches (the pool does it once after a trial of a
// higher level left the server slower). The unload waits for the
// requests in flight on the server, ours and others'.
func (o *Ollama) Reload(ctx context.Context, model string) error {
	stream, zero := false, api.Duration{}
	ignore := func(api.GenerateResponse) error { return nil }
	if err := o.client.Generate(ctx, &api.GenerateRequest{Model: model, KeepAlive: &zero, Stream: &stream}, ignore); err != nil {
		return fmt.Errorf("unload %s: %w", model, err)
	}
	for {
		ps, err := o.client.ListRunning(ctx)
		if err != nil {
			return fmt.Errorf("unload %s: %w", model, err)
		}
		same := func(m api.ProcessModelResponse) bool {
			return m.Name == model || m.Model == model || !strings.Contains(model, ":") && (m.Name == model+":latest" || m.Model == model+":latest")
		}
		if !slices.ContainsFunc(ps.Models, same) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("unload %s: still loaded: %w", model, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := o.client.Generate(ctx, &api.GenerateRequest{Model: model, Stream: &stream}, ignore); err != nil {
		return fmt.Errorf("load %s: %w", model, err)
	}
	return nil
}
