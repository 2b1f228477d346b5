package llm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/tuneline/tuneline/internal/atomicfile"
)

// ErrDeferred says a request was not answered now: it has no reply in the
// results read so far, and was written to the next batch file (when there
// is one). The task that asked it is neither done nor failed; a later
// round answers it.
var ErrDeferred = errors.New("deferred to a batch: no reply yet")

// OpenAIContextLength is the context length the OpenAI-compatible backend
// assumes (the API does not say it) and a batch run plans its prompts for,
// so that a batch run and a live run through --api openai make the same
// requests and share their cache entries.
const OpenAIContextLength = 4096

// BatchPath is the endpoint every line of a batch file asks.
const BatchPath = "/v1/chat/completions"

// MaxBatchLine bounds one line of a results file (a chat completion with
// its reply): a longer line is reported and skipped.
const MaxBatchLine = 16 << 20

// BatchRequest is one line of a batch input file, in the OpenAI Batch API
// format that vLLM's run_batch reads too.
type BatchRequest struct {
	CustomID string         `json:"custom_id"`
	Method   string         `json:"method"`
	URL      string         `json:"url"`
	Body     map[string]any `json:"body"`
}

// BatchResult is one line of a batch output (or error) file.
type BatchResult struct {
	ID       string `json:"id,omitempty"`
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		RequestID  string          `json:"request_id,omitempty"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// chatBody is the body of a chat completion request: the same for a live
// request and a batch line.
func chatBody(r Request) map[string]any {
	body := map[string]any{"model": r.Model, "messages": r.Messages, "temperature": r.Temperature, "seed": r.Seed, "stream": false,
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "reply", "schema": r.Schema, "strict": true}}}
	if r.MaxTokens > 0 {
		body["max_tokens"] = r.MaxTokens
	}
	return body
}

// chatCompletion is the part of a chat completion tuneline reads.
type chatCompletion struct {
	Choices []struct {
		Message      Message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// reply is the completion's first choice; an error when it has none.
func (c *chatCompletion) reply() (Reply, error) {
	if len(c.Choices) == 0 {
		return Reply{}, fmt.Errorf("no choices in the reply")
	}
	ch := c.Choices[0]
	return Reply{Content: ch.Message.Content, Cut: ch.FinishReason == "length", TokensIn: c.Usage.PromptTokens, TokensOut: c.Usage.CompletionTokens}, nil
}

// BatchID is the custom_id of a request: a hash of its body, so that the
// same request has the same id on every machine and in every round, and a
// reply can only ever answer the request it was made for.
func BatchID(r Request) string {
	b, _ := json.Marshal(chatBody(r))
	h := sha256.Sum256(b)
	return "tl-" + hex.EncodeToString(h[:16])
}

// ourID says whether id is one BatchID makes (and so safe as a file name).
func ourID(id string) bool {
	if len(id) != 35 || !strings.HasPrefix(id, "tl-") {
		return false
	}
	_, err := hex.DecodeString(id[3:])
	return err == nil && strings.ToLower(id) == id
}

// batchReply is what the store keeps of a successful result line.
type batchReply struct {
	Content   string `json:"content"`
	Cut       bool   `json:"cut"`
	TokensIn  int    `json:"tokens_in"`
	TokensOut int    `json:"tokens_out"`
}

// Batch is a Backend that answers from a batch engine's results and writes
// the requests it cannot answer to the next batch file. Replies of the
// results files are kept in Store by custom_id (they are needed again in
// later rounds, to rebuild a re-ask); error lines count for this run only.
// The caller validates every reply exactly as a live one.
type Batch struct {
	Store         *Cache
	ContextLength int

	mu      sync.Mutex
	out     *atomicfile.File // nil: no next batch file
	written map[string]bool
	errs    map[string]BatchLineError // error lines of this run's results
	read    map[string]bool           // custom_ids of this run's results
	asked   map[string]bool
	stats   BatchStats
}

// BatchLineError is an engine's failure for one request.
type BatchLineError struct {
	Status  int
	Message string
}

// retry says whether asking again may cure it: overload, server errors,
// and failures without a status (expired, cancelled, engine errors).
func (e BatchLineError) retry() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// BatchStats counts what a batch run did.
type BatchStats struct {
	ResultLines int `json:"result_lines"`
	// Answered requests found their reply in the results; Written were
	// written to the next batch file (new ones, re-asks, and those whose
	// reply is missing or failed at the engine).
	Answered   int `json:"answered"`
	Written    int `json:"written"`
	Missing    int `json:"missing"`
	ErrorLines int `json:"error_lines"`
	Requeued   int `json:"requeued_after_error"`
	// Unknown lines are of requests this run did not ask (another run's,
	// or of tasks already done): reported and ignored.
	Unknown    int      `json:"unknown"`
	UnknownIDs []string `json:"unknown_ids,omitempty"`
	BadLines   int      `json:"bad_lines"`
	FirstBad   string   `json:"first_bad,omitempty"`
}

// NewBatch returns a batch backend whose replies are kept under storeDir.
func NewBatch(storeDir string) *Batch {
	return &Batch{Store: &Cache{Dir: storeDir}, ContextLength: OpenAIContextLength, written: map[string]bool{}, errs: map[string]BatchLineError{},
		read: map[string]bool{}, asked: map[string]bool{}}
}

// WriteTo makes the requests this run cannot answer go to path (written
// atomically when Commit is called).
func (b *Batch) WriteTo(path string) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	b.out = f
	return nil
}

// Commit writes the next batch file into place (an empty file when nothing
// is left) and returns the stats.
func (b *Batch) Commit() (BatchStats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id := range b.read {
		if !b.asked[id] {
			b.stats.Unknown++
			if len(b.stats.UnknownIDs) < 20 {
				b.stats.UnknownIDs = append(b.stats.UnknownIDs, id)
			}
		}
	}
	slices.Sort(b.stats.UnknownIDs)
	if b.out != nil {
		if err := b.out.Commit(); err != nil {
			return b.stats, err
		}
	}
	return b.stats, nil
}

// Abort drops the next batch file (after an error).
func (b *Batch) Abort() {
	if b.out != nil {
		b.out.Abort()
	}
}

// ReadResults reads a batch engine's output or error file, its lines in any
// order: replies go to the store, error lines count for this run. A line
// that is not a result (bad JSON, no custom_id, over MaxBatchLine) is
// counted and skipped with its line number.
func (b *Batch) ReadResults(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return b.readResults(ctx, f, path)
}

func (b *Batch) readResults(ctx context.Context, r io.Reader, name string) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		text, long, err := readLine(br, MaxBatchLine)
		if err == io.EOF && len(text) == 0 && !long {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if len(bytes.TrimSpace(text)) > 0 || long {
			if perr := b.addResult(text, long); perr != nil {
				b.mu.Lock()
				b.stats.BadLines++
				if b.stats.FirstBad == "" {
					b.stats.FirstBad = fmt.Sprintf("%s:%d: %v", name, line, perr)
				}
				b.mu.Unlock()
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one line of at most max bytes; long says it was longer
// (the rest is skipped).
func readLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var buf []byte
	long := false
	for {
		part, err := br.ReadSlice('\n')
		if !long {
			if len(buf)+len(part) > max {
				long, buf = true, nil
			} else {
				buf = append(buf, part...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return buf, long, err
	}
}

// ParseBatchResult decodes one line of a results file.
func ParseBatchResult(line []byte) (BatchResult, error) {
	var r BatchResult
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("not a batch result: %w", err)
	}
	if r.CustomID == "" {
		return r, fmt.Errorf("no custom_id")
	}
	if r.Response == nil && r.Error == nil {
		return r, fmt.Errorf("%s: neither response nor error", r.CustomID)
	}
	return r, nil
}

func (b *Batch) addResult(line []byte, long bool) error {
	if long {
		return fmt.Errorf("line longer than %d bytes", MaxBatchLine)
	}
	r, err := ParseBatchResult(line)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.stats.ResultLines++
	b.read[r.CustomID] = true
	b.mu.Unlock()
	fail := func(le BatchLineError) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.stats.ErrorLines++
		b.errs[r.CustomID] = le
		return nil
	}
	if r.Response == nil || r.Response.StatusCode != http.StatusOK {
		le := BatchLineError{}
		if r.Response != nil {
			le.Status = r.Response.StatusCode
			le.Message = strings.TrimSpace(string(r.Response.Body[:min(len(r.Response.Body), 300)]))
		}
		if r.Error != nil {
			le.Message = strings.TrimSpace(r.Error.Code + ": " + r.Error.Message)
		}
		return fail(le)
	}
	var cc chatCompletion
	if err := json.Unmarshal(r.Response.Body, &cc); err != nil {
		return fail(BatchLineError{Status: 0, Message: "the body is not a chat completion: " + err.Error()})
	}
	rep, err := cc.reply()
	if err != nil {
		return fail(BatchLineError{Status: 0, Message: err.Error()})
	}
	if !ourID(r.CustomID) {
		return nil // not a request tuneline wrote: reported as unknown
	}
	// A later round's reply to the same request replaces an earlier one.
	return b.Store.Put(strings.TrimPrefix(r.CustomID, "tl-"), batchReply(rep))
}

// Chat answers from the results, or writes the request to the next batch
// file and returns ErrDeferred. An error line the engine may cure by
// asking again (overload, 5xx, expired) is asked again; another (4xx) is
// the request's failure, as live.
func (b *Batch) Chat(ctx context.Context, r Request) (Reply, error) {
	id := BatchID(r)
	key := strings.TrimPrefix(id, "tl-")
	b.mu.Lock()
	b.asked[id] = true
	le, failed := b.errs[id]
	b.mu.Unlock()
	var rep batchReply
	if ok, err := b.Store.Get(key, &rep); err != nil {
		return Reply{}, err
	} else if ok {
		b.mu.Lock()
		b.stats.Answered++
		b.mu.Unlock()
		activityFrom(ctx).addTokens(rep.TokensOut)
		return Reply(rep), nil
	}
	if failed && !le.retry() {
		return Reply{}, fmt.Errorf("the batch engine failed request %s: HTTP %d: %s", id, le.Status, le.Message)
	}
	var sent bool
	b.Store.Get("sent-"+key, &sent)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case failed:
		b.stats.Requeued++
	case sent:
		b.stats.Missing++ // written to an earlier batch file; no line came back
	}
	if b.out == nil || b.written[id] {
		return Reply{}, ErrDeferred
	}
	line, err := json.Marshal(BatchRequest{CustomID: id, Method: http.MethodPost, URL: BatchPath, Body: chatBody(r)})
	if err != nil {
		return Reply{}, err
	}
	if _, err := b.out.Write(append(line, '\n')); err != nil {
		return Reply{}, err
	}
	b.written[id] = true
	b.stats.Written++
	if !sent {
		if err := b.Store.Put("sent-"+key, true); err != nil {
			return Reply{}, err
		}
	}
	return Reply{}, ErrDeferred
}

// Preflight has no server to ask: the model is the engine's business.
func (b *Batch) Preflight(context.Context, string, bool) (ModelInfo, error) {
	return ModelInfo{ContextLength: b.ContextLength}, nil
}

// Workers: answers come from disk; a few at once keep the disk busy.
func (b *Batch) Workers() int { return 8 }
