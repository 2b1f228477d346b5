package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tuneline/tuneline/internal/atomicfile"
	"github.com/tuneline/tuneline/internal/rest"
)

// MaxBatchFile bounds an output or error file downloaded from a Batch API.
const MaxBatchFile = 8 << 30

// BatchAPI submits batch files through a service that speaks OpenAI's
// Batch API: the file is uploaded to /files with purpose batch, a batch is
// created at /batches for /v1/chat/completions in a 24h window, followed
// until it ends, and its output and error files are downloaded. The id of
// each batch is kept under StateDir (with the base URL, never the key)
// until its results are read, so that a run interrupted while it waits
// follows the same batch when it is started again.
type BatchAPI struct {
	BaseURL  string
	StateDir string
	// Poll is the wait between two looks at a batch.
	Poll time.Duration
	api  *rest.Client
}

// BatchJob is the service's batch object (the fields tuneline reads).
type BatchJob struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	InputFileID   string `json:"input_file_id"`
	OutputFileID  string `json:"output_file_id"`
	ErrorFileID   string `json:"error_file_id"`
	RequestCounts struct {
		Total     int `json:"total"`
		Completed int `json:"completed"`
		Failed    int `json:"failed"`
	} `json:"request_counts"`
	Errors *struct {
		Data []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Line    *int   `json:"line"`
		} `json:"data"`
	} `json:"errors"`
}

// Ended tells whether the batch will change no more.
func (j BatchJob) Ended() bool {
	switch j.Status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// Problems lists the reasons a batch failed validation (with the input
// file's line), at most n.
func (j BatchJob) Problems(n int) string {
	if j.Errors == nil {
		return ""
	}
	var out []string
	for _, e := range j.Errors.Data[:min(n, len(j.Errors.Data))] {
		s := e.Code + ": " + e.Message
		if e.Line != nil {
			s = fmt.Sprintf("line %d: %s", *e.Line, s)
		}
		out = append(out, s)
	}
	if len(j.Errors.Data) > n {
		out = append(out, fmt.Sprintf("and %d more", len(j.Errors.Data)-n))
	}
	return strings.Join(out, "; ")
}

// NewBatchAPI returns a client of the Batch API at base (ending in /v1)
// with key, keeping its state under stateDir.
func NewBatchAPI(base, key, stateDir string) (*BatchAPI, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("batch API: base URL %q: want a URL like https://host/v1", base)
	}
	if key == "" {
		return nil, errors.New("batch API: no key: export OPENAI_API_KEY=... (or give --api-key)")
	}
	base = strings.TrimRight(base, "/")
	return &BatchAPI{BaseURL: base, StateDir: stateDir, Poll: 30 * time.Second,
		api: &rest.Client{Base: base, Header: http.Header{"Authorization": {"Bearer " + key}}, HC: http.DefaultClient,
			DecodeErr: func(status int, body []byte) error { return rest.OpenAIError(status, body) }}}, nil
}

// batchState is what is kept of a submitted batch.
type batchState struct {
	BatchID string `json:"batch_id"`
	BaseURL string `json:"base_url"`
}

func (a *BatchAPI) statePath(key string) string { return filepath.Join(a.StateDir, key+".json") }

// Submitted returns the id of the batch submitted for key, if one is kept.
func (a *BatchAPI) Submitted(key string) string {
	b, err := os.ReadFile(a.statePath(key))
	if err != nil {
		return ""
	}
	var st batchState
	if json.Unmarshal(b, &st) != nil || st.BaseURL != a.BaseURL {
		return ""
	}
	return st.BatchID
}

// Forget drops the record of key's batch (once its results are read).
func (a *BatchAPI) Forget(key string) error {
	if err := os.Remove(a.statePath(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Submit uploads the requests file and creates its batch, recording its
// id under key; when a batch was submitted for key already, it is
// returned instead.
func (a *BatchAPI) Submit(ctx context.Context, requests, key string) (BatchJob, error) {
	if id := a.Submitted(key); id != "" {
		return a.Get(ctx, id)
	}
	var f struct {
		ID string `json:"id"`
	}
	if err := a.api.Do(ctx, http.MethodPost, "/files", rest.MultipartFile(requests, [][2]string{{"purpose", "batch"}}, nil), &f); err != nil {
		return BatchJob{}, fmt.Errorf("batch API: upload %s: %w", requests, err)
	}
	req := map[string]any{"input_file_id": f.ID, "endpoint": BatchPath, "completion_window": "24h", "metadata": map[string]string{"made_by": "tuneline"}}
	var j BatchJob
	err := a.api.Do(ctx, http.MethodPost, "/batches", rest.JSON(req), &j)
	if err != nil {
		return BatchJob{}, fmt.Errorf("batch API: create the batch of %s: %w", f.ID, err)
	}
	if err := os.MkdirAll(a.StateDir, atomicfile.DirMode()); err != nil {
		return j, err
	}
	st, _ := json.Marshal(batchState{BatchID: j.ID, BaseURL: a.BaseURL})
	return j, atomicfile.WriteFile(a.statePath(key), st)
}

// Get looks at a batch.
func (a *BatchAPI) Get(ctx context.Context, id string) (BatchJob, error) {
	var j BatchJob
	if err := a.api.Do(ctx, http.MethodGet, "/batches/"+url.PathEscape(id), nil, &j); err != nil {
		return j, fmt.Errorf("batch API: batch %s: %w", id, err)
	}
	return j, nil
}

// Cancel asks the service to cancel a batch: it goes on to "cancelling",
// then "cancelled" with the output and error files of what it completed.
func (a *BatchAPI) Cancel(ctx context.Context, id string) (BatchJob, error) {
	var j BatchJob
	if err := a.api.Do(ctx, http.MethodPost, "/batches/"+url.PathEscape(id)+"/cancel", nil, &j); err != nil {
		return j, fmt.Errorf("batch API: cancel batch %s: %w", id, err)
	}
	return j, nil
}

// Wait looks at the batch every Poll until it ends, telling progress of
// each change of status or counts.
func (a *BatchAPI) Wait(ctx context.Context, j BatchJob, progress func(BatchJob)) (BatchJob, error) {
	last := ""
	for {
		seen := fmt.Sprintf("%s %+v", j.Status, j.RequestCounts)
		if seen != last && progress != nil {
			progress(j)
		}
		last = seen
		if j.Ended() {
			return j, nil
		}
		if err := rest.Sleep(ctx, a.Poll); err != nil {
			return j, err
		}
		var err error
		if j, err = a.Get(ctx, j.ID); err != nil {
			return j, err
		}
	}
}

// Download fetches the batch's output and error files into StateDir and
// returns their paths (none when the batch has neither).
func (a *BatchAPI) Download(ctx context.Context, j BatchJob) ([]string, error) {
	var out []string
	for _, f := range []struct{ id, what string }{{j.OutputFileID, "output"}, {j.ErrorFileID, "errors"}} {
		if f.id == "" {
			continue
		}
		p := filepath.Join(a.StateDir, j.ID+"."+f.what+".jsonl")
		if err := a.api.Download(ctx, "/files/"+url.PathEscape(f.id)+"/content", p, MaxBatchFile); err != nil {
			return out, fmt.Errorf("batch API: download the %s file %s of batch %s: %w", f.what, f.id, j.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// WrittenKey names the set of requests written to the next batch file:
// the same requests give the same key, whatever their order.
func (b *Batch) WrittenKey() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, 0, len(b.written))
	for id := range b.written {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(h[:16])
}
