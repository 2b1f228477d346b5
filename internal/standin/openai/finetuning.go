package openai

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// MinExamples is the service's documented minimum of training examples.
const MinExamples = 10

type jobError struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

type job struct {
	ID              string         `json:"id"`
	Object          string         `json:"object"`
	CreatedAt       int64          `json:"created_at"`
	Error           *jobError      `json:"error"`
	FineTunedModel  *string        `json:"fine_tuned_model"`
	FinishedAt      *int64         `json:"finished_at"`
	Hyperparameters map[string]any `json:"hyperparameters"`
	Model           string         `json:"model"`
	OrganizationID  string         `json:"organization_id"`
	ResultFiles     []string       `json:"result_files"`
	Seed            int64          `json:"seed"`
	Status          string         `json:"status"`
	TrainedTokens   *int64         `json:"trained_tokens"`
	TrainingFile    string         `json:"training_file"`
	ValidationFile  *string        `json:"validation_file"`
	EstimatedFinish *int64         `json:"estimated_finish"`
	Integrations    []any          `json:"integrations"`
	Metadata        map[string]any `json:"metadata"`
	Method          map[string]any `json:"method"`
	Suffix          string         `json:"-"`

	tick   int
	events []*event // oldest first
}

type event struct {
	ID        string         `json:"id"`
	Object    string         `json:"object"`
	CreatedAt int64          `json:"created_at"`
	Level     string         `json:"level"`
	Message   string         `json:"message"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data,omitempty"`
}

// createJobRequest is the body of POST /v1/fine_tuning/jobs.
type createJobRequest struct {
	Model           string          `json:"model"`
	TrainingFile    string          `json:"training_file"`
	ValidationFile  string          `json:"validation_file"`
	Suffix          *string         `json:"suffix"`
	Seed            *int64          `json:"seed"`
	Hyperparameters map[string]any  `json:"hyperparameters"`
	Method          *jobMethod      `json:"method"`
	Metadata        map[string]any  `json:"metadata"`
	Integrations    json.RawMessage `json:"integrations"`
}

type jobMethod struct {
	Type       string                                    `json:"type"`
	Supervised *struct{ Hyperparameters map[string]any } `json:"supervised"`
	Dpo        *struct{ Hyperparameters map[string]any } `json:"dpo"`
}

func (s *Server) fineTuningRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/fine_tuning/jobs", s.createJob)
	mux.HandleFunc("GET /v1/fine_tuning/jobs", s.listJobs)
	mux.HandleFunc("GET /v1/fine_tuning/jobs/{id}", s.getJob)
	mux.HandleFunc("POST /v1/fine_tuning/jobs/{id}/cancel", s.cancelJob)
	mux.HandleFunc("GET /v1/fine_tuning/jobs/{id}/events", s.listEvents)
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req createJobRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error(), "invalid_request_error", "", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bad := func(param, msg string) { writeError(w, http.StatusBadRequest, msg, "invalid_request_error", param, "") }
	method := "supervised"
	var hp map[string]any
	if req.Method != nil {
		method = req.Method.Type
		switch {
		case method == "supervised" && req.Method.Supervised != nil:
			hp = req.Method.Supervised.Hyperparameters
		case method == "dpo" && req.Method.Dpo != nil:
			hp = req.Method.Dpo.Hyperparameters
		}
	}
	if hp == nil {
		hp = req.Hyperparameters
	}
	switch {
	case req.Model == "":
		bad("model", "Missing required parameter: 'model'.")
		return
	case req.TrainingFile == "":
		bad("training_file", "Missing required parameter: 'training_file'.")
		return
	case method != "supervised" && method != "dpo":
		bad("method.type", fmt.Sprintf("Invalid value: '%s'. Supported values are: 'supervised', 'dpo' and 'reinforcement'.", method))
		return
	case req.Suffix != nil && len(*req.Suffix) > 64:
		bad("suffix", "suffix must be at most 64 characters long")
		return
	}
	for param, id := range map[string]string{"training_file": req.TrainingFile, "validation_file": req.ValidationFile} {
		if id == "" {
			continue
		}
		f, ok := s.files[id]
		if !ok {
			bad(param, "invalid "+param+": "+id)
			return
		}
		if f.Purpose != "fine-tune" {
			bad(param, fmt.Sprintf("File %s has purpose '%s'; a fine-tuning file must be uploaded with purpose 'fine-tune'.", id, f.Purpose))
			return
		}
	}
	hyper := map[string]any{"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}
	if method == "dpo" {
		hyper["beta"] = "auto"
	}
	for k, v := range hp {
		hyper[k] = v
	}
	j := &job{ID: s.id("ftjob"), Object: "fine_tuning.job", CreatedAt: s.clock(), Model: req.Model, OrganizationID: "org-standin",
		ResultFiles: []string{}, Status: "validating_files", TrainingFile: req.TrainingFile, Hyperparameters: hyper,
		Method: map[string]any{"type": method, method: map[string]any{"hyperparameters": hyper}}, Metadata: req.Metadata, Seed: 42}
	if req.Seed != nil {
		j.Seed = *req.Seed
	}
	if req.ValidationFile != "" {
		v := req.ValidationFile
		j.ValidationFile = &v
	}
	if req.Suffix != nil {
		j.Suffix = *req.Suffix
	}
	s.jobs[j.ID] = j
	s.jobIDs = append(s.jobIDs, j.ID)
	s.addEvent(j, "info", "message", "Validating training file: "+req.TrainingFile, nil)
	s.addEvent(j, "info", "message", "Created fine-tuning job: "+j.ID, nil)
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) addEvent(j *job, level, typ, msg string, data map[string]any) {
	j.events = append(j.events, &event{ID: s.id("ftevent"), Object: "fine_tuning.job.event", CreatedAt: s.clock(), Level: level, Message: msg, Type: typ, Data: data})
}

// advance moves a job one step on: each read of the job or of its events
// is one tick of the service's clock, so a client that polls sees every
// state in turn: validating_files, queued, running (one metrics event a
// tick), then succeeded, or failed when the training file breaks the
// documented rules.
func (s *Server) advance(j *job) {
	if j.Status == "succeeded" || j.Status == "failed" || j.Status == "cancelled" {
		return
	}
	j.tick++
	switch {
	case j.tick == 1:
		if err := s.validate(j); err != nil {
			j.Status = "failed"
			j.Error = err
			fin := s.clock()
			j.FinishedAt = &fin
			s.addEvent(j, "error", "message", err.Message, nil)
			return
		}
		j.Status = "queued"
		s.addEvent(j, "info", "message", "Files validated, moving job to queued state", nil)
	case j.tick == 2:
		j.Status = "running"
		s.addEvent(j, "info", "message", "Fine-tuning job started", nil)
	case j.tick-2 <= s.Steps:
		step := j.tick - 2
		loss := 2.0 / float64(step+1)
		s.addEvent(j, "info", "metrics", fmt.Sprintf("Step %d/%d: training loss=%.4f", step, s.Steps, loss),
			map[string]any{"step": step, "total_steps": s.Steps, "train_loss": loss, "train_mean_token_accuracy": 1 - loss/3})
	default:
		name := fmt.Sprintf("ft:%s:%s:%s:%s", j.Model, "standin", j.Suffix, j.ID[len(j.ID)-8:])
		if j.Suffix == "" {
			name = fmt.Sprintf("ft:%s:%s::%s", j.Model, "standin", j.ID[len(j.ID)-8:])
		}
		j.FineTunedModel = &name
		j.Status = "succeeded"
		fin := s.clock()
		j.FinishedAt = &fin
		tokens := int64(1000 * s.Steps)
		j.TrainedTokens = &tokens
		j.ResultFiles = []string{s.addFile("step_metrics.csv", "fine-tune-results", []byte("step,train_loss\n")).ID}
		s.addEvent(j, "info", "message", "New fine-tuned model created", nil)
		s.addEvent(j, "info", "message", "The job has successfully completed", nil)
	}
}

// validate applies the documented rules of a training file: JSON Lines, at
// least MinExamples examples, each a chat (messages with an assistant
// message) for supervised jobs or a preference pair (input.messages,
// preferred_output, non_preferred_output) for DPO.
func (s *Server) validate(j *job) *jobError {
	param := "training_file"
	fail := func(code, msg string) *jobError { return &jobError{Code: code, Message: msg, Param: &param} }
	f, ok := s.files[j.TrainingFile]
	if !ok {
		return fail("invalid_training_file", "The training file was deleted before the job could start.")
	}
	dpo := j.Method["type"] == "dpo"
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ex struct {
			Messages           []map[string]any                     `json:"messages"`
			Input              *struct{ Messages []map[string]any } `json:"input"`
			PreferredOutput    []map[string]any                     `json:"preferred_output"`
			NonPreferredOutput []map[string]any                     `json:"non_preferred_output"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return fail("invalid_file_format", fmt.Sprintf("Invalid file format. Line %d is not valid JSON: %v", line, err))
		}
		if dpo {
			if ex.Input == nil || len(ex.Input.Messages) == 0 || len(ex.PreferredOutput) == 0 || len(ex.NonPreferredOutput) == 0 {
				return fail("invalid_file_format", fmt.Sprintf("Invalid file format. Example %d: each line of a preference (DPO) file needs input.messages, preferred_output and non_preferred_output.", line))
			}
		} else if !slices.ContainsFunc(ex.Messages, func(m map[string]any) bool { return m["role"] == "assistant" }) {
			return fail("invalid_file_format", fmt.Sprintf("Invalid file format. Example %d: each example needs a messages list with at least one assistant message.", line))
		}
		n++
	}
	if n < MinExamples {
		return fail("invalid_n_examples", fmt.Sprintf("Training file has %d example(s), but must have at least %d examples", n, MinExamples))
	}
	return nil
}

func (s *Server) lookupJob(w http.ResponseWriter, r *http.Request) *job {
	id := r.PathValue("id")
	j, ok := s.jobs[id]
	if !ok {
		writeError(w, http.StatusNotFound, "No such fine-tuning job: "+id, "invalid_request_error", "fine_tune_id", "fine_tune_not_found")
		return nil
	}
	return j
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.lookupJob(w, r); j != nil {
		s.advance(j)
		writeJSON(w, http.StatusOK, j)
	}
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.lookupJob(w, r)
	if j == nil {
		return
	}
	switch j.Status {
	case "succeeded", "failed", "cancelled":
		writeError(w, http.StatusBadRequest, "Job has already completed: "+j.ID+" ("+j.Status+")", "invalid_request_error", "", "")
		return
	}
	j.Status = "cancelled"
	fin := s.clock()
	j.FinishedAt = &fin
	s.addEvent(j, "info", "message", "Fine-tuning job cancelled", nil)
	writeJSON(w, http.StatusOK, j)
}

// listJobs pages through jobs, newest first.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writePage(w, r, reversed(s.jobIDs), 20, s.jobs)
}

// listEvents pages through a job's events, newest first, as the service
// returns them.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.lookupJob(w, r)
	if j == nil {
		return
	}
	s.advance(j)
	byID := map[string]*event{}
	var ids []string
	for _, e := range j.events {
		byID[e.ID] = e
		ids = append(ids, e.ID)
	}
	ids, more, err := page(r, reversed(ids), 20)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "invalid_request_error", "limit", "")
		return
	}
	out := list[*event]{Object: "list", Data: []*event{}, HasMore: more}
	for _, id := range ids {
		out.Data = append(out.Data, byID[id])
	}
	writeJSON(w, http.StatusOK, out)
}

// JobInfo is what a test checks of a job.
type JobInfo struct {
	Status, Model, Method string
	Hyperparameters       map[string]any
	Seed                  int64
	Suffix                string
	ValidationFile        string
}

// Job reports a job (for tests).
func (s *Server) Job(id string) (JobInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return JobInfo{}, false
	}
	info := JobInfo{Status: j.Status, Method: fmt.Sprint(j.Method["type"]), Hyperparameters: j.Hyperparameters, Seed: j.Seed, Suffix: j.Suffix}
	if j.FineTunedModel != nil {
		info.Model = *j.FineTunedModel
	}
	if j.ValidationFile != nil {
		info.ValidationFile = *j.ValidationFile
	}
	return info, true
}

// JobIDs lists the jobs created so far, oldest first.
func (s *Server) JobIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.jobIDs...)
}

// Jobs counts the jobs created so far.
func (s *Server) Jobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobIDs)
}
