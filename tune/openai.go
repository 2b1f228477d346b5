package tune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/rest"
)

// OpenAIOptions configure a job on OpenAI. Zero values leave the choice to
// the service ("auto").
type OpenAIOptions struct {
	// Model is the base model (gpt-4.1-mini-2025-04-14, ...).
	Model  string
	Suffix string
	Epochs int
	// Seed, when set, makes the job reproducible.
	Seed                   *int64
	LearningRateMultiplier float64
	BatchSize              int
	// Beta is DPO's beta (preference exports only).
	Beta float64
	// Uploaded reports the bytes of a file sent so far.
	Uploaded func(file string, done, total int64)
}

// DefaultOpenAIBaseURL is the API's address when OPENAI_BASE_URL is unset.
const DefaultOpenAIBaseURL = "https://api.openai.com/v1"

// OpenAI is OpenAI's fine-tuning API: files and fine_tuning/jobs, spoken
// over HTTP as the official SDKs speak it. The environment is read as they
// read it: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID,
// OPENAI_PROJECT_ID. (github.com/openai/openai-go was measured and not
// taken: its package links every API type, 45.7 MB to 75.3 MB for
// cmd/tuneline with only its files and jobs services, 98.5 MB through
// openai.NewClient.)
type OpenAI struct {
	api *rest.Client
	// events: the newest event seen of each job, so that each Poll reports
	// only what is new; status: the last status told.
	events map[string]string
	status map[string]string
}

// NewOpenAI makes a client from the environment; OPENAI_API_KEY must be set.
func NewOpenAI() (*OpenAI, error) {
	key := os.Getenv("OPENAI_API_KEY")
	if key == "" {
		return nil, errors.New("OPENAI_API_KEY is not set: create a key at https://platform.openai.com/api-keys and export OPENAI_API_KEY=... (OPENAI_BASE_URL points at another server)")
	}
	base := os.Getenv("OPENAI_BASE_URL")
	if base == "" {
		base = DefaultOpenAIBaseURL
	}
	h := http.Header{"Authorization": {"Bearer " + key}}
	if v := os.Getenv("OPENAI_ORG_ID"); v != "" {
		h.Set("OpenAI-Organization", v)
	}
	if v := os.Getenv("OPENAI_PROJECT_ID"); v != "" {
		h.Set("OpenAI-Project", v)
	}
	return &OpenAI{api: &rest.Client{Base: strings.TrimRight(base, "/"), Header: h, HC: http.DefaultClient, DecodeErr: openaiError},
		events: map[string]string{}, status: map[string]string{}}, nil
}

// Name implements Service.
func (*OpenAI) Name() string { return ServiceOpenAI }

// openaiError reads the API's error body: {"error": {message, type, param, code}}.
func openaiError(status int, body []byte) error {
	e := rest.OpenAIError(status, body)
	e.Service = ServiceOpenAI
	return e
}

// hint says what to do about an API error.
func (o *OpenAI) hint(e *rest.APIError) string {
	switch e.Status {
	case http.StatusUnauthorized:
		h := "check the key in OPENAI_API_KEY"
		if os.Getenv("OPENAI_BASE_URL") != "" {
			h += " (for the server in OPENAI_BASE_URL)"
		}
		return h
	case http.StatusForbidden:
		return "the key in OPENAI_API_KEY may not use this model or project (OPENAI_PROJECT_ID, OPENAI_ORG_ID)"
	case http.StatusTooManyRequests:
		return "rate limited or out of quota, still after retries; try again later or check the billing of the key's project"
	}
	if e.Status >= 500 {
		return "the service failed, still after retries; try again later"
	}
	return ""
}

func (o *OpenAI) wrap(what string, err error) error {
	var e *rest.APIError
	if errors.As(err, &e) {
		e.Hint = o.hint(e)
	}
	return fmt.Errorf("openai: %s: %w", what, err)
}

// openaiJob is the API's fine_tuning.job object (the fields read here).
type openaiJob struct {
	ID             string  `json:"id"`
	Status         string  `json:"status"`
	Model          string  `json:"model"`
	FineTunedModel *string `json:"fine_tuned_model"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type openaiHyper struct {
	NEpochs                int     `json:"n_epochs,omitempty"`
	BatchSize              int     `json:"batch_size,omitempty"`
	LearningRateMultiplier float64 `json:"learning_rate_multiplier,omitempty"`
	Beta                   float64 `json:"beta,omitempty"`
}

type openaiMethodSpec struct {
	Hyperparameters openaiHyper `json:"hyperparameters"`
}

// openaiJobRequest is the body of POST /fine_tuning/jobs.
type openaiJobRequest struct {
	Model          string `json:"model"`
	TrainingFile   string `json:"training_file"`
	ValidationFile string `json:"validation_file,omitempty"`
	Suffix         string `json:"suffix,omitempty"`
	Seed           *int64 `json:"seed,omitempty"`
	Method         struct {
		Type       string            `json:"type"`
		Supervised *openaiMethodSpec `json:"supervised,omitempty"`
		DPO        *openaiMethodSpec `json:"dpo,omitempty"`
	} `json:"method"`
}

// jobRequest builds the job's body: DPO for a preference export, else
// supervised.
func jobRequest(rep *format.Report, opt OpenAIOptions) (*openaiJobRequest, error) {
	if opt.Model == "" {
		return nil, errors.New("openai: no base model (--model)")
	}
	if len(opt.Suffix) > 64 {
		return nil, fmt.Errorf("openai: --suffix %q is longer than the 64 characters the service takes", opt.Suffix)
	}
	req := &openaiJobRequest{Model: opt.Model, Suffix: opt.Suffix, Seed: opt.Seed}
	spec := &openaiMethodSpec{Hyperparameters: openaiHyper{NEpochs: opt.Epochs, BatchSize: opt.BatchSize, LearningRateMultiplier: opt.LearningRateMultiplier, Beta: opt.Beta}}
	if rep.Kind == format.KindPreference {
		req.Method.Type, req.Method.DPO = "dpo", spec
	} else {
		if opt.Beta > 0 {
			return nil, errors.New("openai: --beta is for preference (DPO) exports; this export holds chats")
		}
		req.Method.Type, req.Method.Supervised = "supervised", spec
	}
	return req, nil
}

// Start uploads the export in dir (train.jsonl, and validation.jsonl when
// it has one) with purpose fine-tune and creates the job. It returns the
// job without waiting for it.
func (o *OpenAI) Start(ctx context.Context, dir string, rep *format.Report, opt OpenAIOptions) (Job, error) {
	req, err := jobRequest(rep, opt)
	if err != nil {
		return Job{}, err
	}
	train := splitFile(dir, rep, "train")
	if train == "" {
		return Job{}, fmt.Errorf("%s has no train.jsonl with examples", dir)
	}
	if req.TrainingFile, err = o.upload(ctx, train, opt.Uploaded); err != nil {
		return Job{}, err
	}
	if val := splitFile(dir, rep, "validation"); val != "" {
		if req.ValidationFile, err = o.upload(ctx, val, opt.Uploaded); err != nil {
			return Job{}, err
		}
	}
	var j openaiJob
	if err := o.api.Do(ctx, "POST", "/fine_tuning/jobs", rest.JSON(req), &j); err != nil {
		return Job{}, o.wrap("create the fine-tuning job", err)
	}
	return o.job(&j), nil
}

func (o *OpenAI) job(j *openaiJob) Job {
	out := Job{Service: ServiceOpenAI, ID: j.ID, Status: j.Status, BaseModel: j.Model}
	switch j.Status {
	case "succeeded", "failed", "cancelled":
		out.Done = true
	}
	if j.Status == "succeeded" && j.FineTunedModel != nil {
		out.Model = *j.FineTunedModel
	}
	if j.Error != nil && j.Error.Message != "" {
		out.Error = j.Error.Message
		if j.Error.Code != "" {
			out.Error += " (" + j.Error.Code + ")"
		}
	}
	return out
}

// upload sends path with purpose fine-tune as multipart/form-data,
// streamed from the file (each attempt reads it again).
func (o *OpenAI) upload(ctx context.Context, path string, progress func(string, int64, int64)) (string, error) {
	var res struct {
		ID string `json:"id"`
	}
	if err := o.api.Do(ctx, "POST", "/files", rest.MultipartFile(path, [][2]string{{"purpose", "fine-tune"}}, progress), &res); err != nil {
		return "", o.wrap("upload "+path, err)
	}
	return res.ID, nil
}

type openaiEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// maxEventPages bounds the events read in one look (100 a page).
const maxEventPages = 50

// Poll implements Service: the job, and the events logged since the last
// look (the service lists them newest first; they are told oldest first).
func (o *OpenAI) Poll(ctx context.Context, id string, obs *Observer) (Job, error) {
	var j openaiJob
	if err := o.api.Do(ctx, "GET", "/fine_tuning/jobs/"+url.PathEscape(id), nil, &j); err != nil {
		return Job{}, o.wrap("get job "+id, err)
	}
	var fresh []openaiEvent
	seen, after := o.events[id], ""
pages:
	for range maxEventPages {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Data    []openaiEvent `json:"data"`
			HasMore bool          `json:"has_more"`
		}
		if err := o.api.Do(ctx, "GET", "/fine_tuning/jobs/"+url.PathEscape(id)+"/events?"+q.Encode(), nil, &page); err != nil {
			return Job{}, o.wrap("list the events of job "+id, err)
		}
		for _, e := range page.Data {
			if e.ID == seen {
				break pages
			}
			fresh = append(fresh, e)
		}
		if !page.HasMore || len(page.Data) == 0 {
			break
		}
		after = page.Data[len(page.Data)-1].ID
	}
	slices.Reverse(fresh)
	for _, e := range fresh {
		o.events[id] = e.ID
		var m struct {
			Step       int     `json:"step"`
			TotalSteps int     `json:"total_steps"`
			TrainLoss  float64 `json:"train_loss"`
		}
		if e.Type == "metrics" && json.Unmarshal(e.Data, &m) == nil {
			obs.metrics(m.Step, m.TotalSteps, m.TrainLoss)
			continue
		}
		obs.log(e.Message)
	}
	out := o.job(&j)
	if o.status[id] != out.Status {
		o.status[id] = out.Status
		obs.status(out.Status)
	}
	return out, nil
}

// Cancel implements Service.
func (o *OpenAI) Cancel(ctx context.Context, id string) (Job, error) {
	var j openaiJob
	if err := o.api.Do(ctx, "POST", "/fine_tuning/jobs/"+url.PathEscape(id)+"/cancel", nil, &j); err != nil {
		return Job{}, o.wrap("cancel job "+id, err)
	}
	return o.job(&j), nil
}
