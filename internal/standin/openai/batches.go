package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// MaxBatchRequests is the service's documented limit of requests in one
// batch input file.
const MaxBatchRequests = 50000

// Endpoints a batch may ask.
var batchEndpoints = []string{"/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations"}

// Engine answers one request of a batch: the HTTP status and the JSON
// body the endpoint would have answered.
type Engine func(ctx context.Context, url string, body []byte) (status int, reply []byte)

type batchCounts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

type batchErrorItem struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
	Line    *int    `json:"line"`
}

type batchErrors struct {
	Object string           `json:"object"`
	Data   []batchErrorItem `json:"data"`
}

type batch struct {
	ID               string         `json:"id"`
	Object           string         `json:"object"`
	Endpoint         string         `json:"endpoint"`
	Errors           *batchErrors   `json:"errors"`
	InputFileID      string         `json:"input_file_id"`
	CompletionWindow string         `json:"completion_window"`
	Status           string         `json:"status"`
	OutputFileID     *string        `json:"output_file_id"`
	ErrorFileID      *string        `json:"error_file_id"`
	CreatedAt        int64          `json:"created_at"`
	InProgressAt     *int64         `json:"in_progress_at"`
	ExpiresAt        *int64         `json:"expires_at"`
	FinalizingAt     *int64         `json:"finalizing_at"`
	CompletedAt      *int64         `json:"completed_at"`
	FailedAt         *int64         `json:"failed_at"`
	ExpiredAt        *int64         `json:"expired_at"`
	CancellingAt     *int64         `json:"cancelling_at"`
	CancelledAt      *int64         `json:"cancelled_at"`
	RequestCounts    batchCounts    `json:"request_counts"`
	Metadata         map[string]any `json:"metadata"`

	reqs    []batchLine
	next    int      // requests[next:] are not run yet
	out     [][]byte // output lines (successes)
	errs    [][]byte // error file lines
	running bool     // a tick runs requests outside the lock
}

type batchLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

func (s *Server) batchRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/batches", s.createBatch)
	mux.HandleFunc("GET /v1/batches", s.listBatches)
	mux.HandleFunc("GET /v1/batches/{id}", s.getBatch)
	mux.HandleFunc("POST /v1/batches/{id}/cancel", s.cancelBatch)
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		InputFileID      string         `json:"input_file_id"`
		Endpoint         string         `json:"endpoint"`
		CompletionWindow string         `json:"completion_window"`
		Metadata         map[string]any `json:"metadata"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error(), "invalid_request_error", "", "")
		return
	}
	bad := func(param, msg string) { writeError(w, http.StatusBadRequest, msg, "invalid_request_error", param, "") }
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case req.InputFileID == "":
		bad("input_file_id", "Missing required parameter: 'input_file_id'.")
		return
	case !slices.Contains(batchEndpoints, req.Endpoint):
		bad("endpoint", fmt.Sprintf("Invalid value: '%s'. Supported values are: '%s'.", req.Endpoint, strings.Join(batchEndpoints, "', '")))
		return
	case req.CompletionWindow != "24h":
		bad("completion_window", fmt.Sprintf("Invalid value: '%s'. Supported values are: '24h'.", req.CompletionWindow))
		return
	}
	f, ok := s.files[req.InputFileID]
	if !ok {
		bad("input_file_id", "No such File object: "+req.InputFileID)
		return
	}
	if f.Purpose != "batch" {
		bad("input_file_id", fmt.Sprintf("File %s has purpose '%s'; a batch input file must be uploaded with purpose 'batch'.", f.ID, f.Purpose))
		return
	}
	now := s.clock()
	exp := now + 24*3600
	b := &batch{ID: s.id("batch"), Object: "batch", Endpoint: req.Endpoint, InputFileID: f.ID, CompletionWindow: req.CompletionWindow,
		Status: "validating", CreatedAt: now, ExpiresAt: &exp, Metadata: req.Metadata}
	s.batches[b.ID] = b
	s.batchIDs = append(s.batchIDs, b.ID)
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) lookupBatch(w http.ResponseWriter, r *http.Request) *batch {
	id := r.PathValue("id")
	b, ok := s.batches[id]
	if !ok {
		writeError(w, http.StatusNotFound, "No batch found with id '"+id+"'.", "invalid_request_error", "", "")
		return nil
	}
	return b
}

// getBatch shows the batch after one tick of the service's clock: each
// read moves it on (validating, then in_progress running BatchStep
// requests a tick, finalizing, completed), so a client that polls sees
// every state and the request counts rise.
func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b := s.lookupBatch(w, r)
	if b == nil {
		s.mu.Unlock()
		return
	}
	run := s.advanceBatch(b)
	s.mu.Unlock()
	if len(run) > 0 {
		s.runBatch(r.Context(), b, run)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) stamp() *int64 {
	t := s.clock()
	return &t
}

// advanceBatch moves b one tick on and returns the requests this tick runs
// (run by the caller without the lock).
func (s *Server) advanceBatch(b *batch) []batchLine {
	if b.running {
		return nil
	}
	switch b.Status {
	case "validating":
		reqs, errs := s.readBatchInput(b)
		if len(errs) > 0 {
			b.Status, b.FailedAt = "failed", s.stamp()
			b.Errors = &batchErrors{Object: "list", Data: errs}
			return nil
		}
		b.reqs = reqs
		b.RequestCounts.Total = len(reqs)
		b.Status, b.InProgressAt = "in_progress", s.stamp()
	case "in_progress":
		if s.ExpireAfter >= 0 && b.RequestCounts.Completed+b.RequestCounts.Failed >= s.ExpireAfter {
			for _, l := range b.reqs[b.next:] {
				b.errs = append(b.errs, s.resultLine(l.CustomID, 0, nil, "batch_expired", "This request could not be executed before the completion window expired."))
			}
			b.next = len(b.reqs)
			b.Status, b.ExpiredAt = "expired", s.stamp()
			s.writeBatchFiles(b)
			return nil
		}
		if b.next == len(b.reqs) {
			b.Status, b.FinalizingAt = "finalizing", s.stamp()
			return nil
		}
		n := s.BatchStep
		if s.ExpireAfter >= 0 {
			n = min(n, s.ExpireAfter-b.RequestCounts.Completed-b.RequestCounts.Failed)
		}
		run := b.reqs[b.next:min(len(b.reqs), b.next+max(n, 1))]
		b.next += len(run)
		b.running = true
		return run
	case "finalizing":
		b.Status, b.CompletedAt = "completed", s.stamp()
		s.writeBatchFiles(b)
	case "cancelling":
		b.Status, b.CancelledAt = "cancelled", s.stamp()
		s.writeBatchFiles(b)
	}
	return nil
}

// runBatch asks the engine each request of run and records its line.
func (s *Server) runBatch(ctx context.Context, b *batch, run []batchLine) {
	type res struct {
		status int
		body   []byte
	}
	out := make([]res, len(run))
	for i, l := range run {
		st, body := http.StatusInternalServerError, []byte(`{"error":{"message":"no engine","type":"server_error"}}`)
		if s.Engine != nil {
			st, body = s.Engine(ctx, b.Endpoint, l.Body)
		}
		out[i] = res{st, body}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.running = false
	for i, l := range run {
		line := s.resultLine(l.CustomID, out[i].status, out[i].body, "", "")
		if out[i].status == http.StatusOK {
			b.out = append(b.out, line)
			b.RequestCounts.Completed++
		} else {
			b.errs = append(b.errs, line)
			b.RequestCounts.Failed++
		}
	}
}

// resultLine is one line of an output or error file: a response, or an
// error (code) for a request that was never run.
func (s *Server) resultLine(customID string, status int, body []byte, code, msg string) []byte {
	line := map[string]any{"id": s.id("batch_req"), "custom_id": customID, "response": nil, "error": nil}
	if code != "" {
		line["error"] = map[string]any{"code": code, "message": msg}
	} else {
		if !json.Valid(body) {
			body, _ = json.Marshal(string(body))
		}
		line["response"] = map[string]any{"status_code": status, "request_id": s.id("req"), "body": json.RawMessage(body)}
	}
	b, _ := json.Marshal(line)
	return b
}

// writeBatchFiles stores the output and error files of a batch that ended
// (the files the service makes have purpose batch_output).
func (s *Server) writeBatchFiles(b *batch) {
	if len(b.out) > 0 {
		id := s.addFile("batch_"+b.ID+"_output.jsonl", "batch_output", append(bytes.Join(b.out, []byte("\n")), '\n')).ID
		b.OutputFileID = &id
	}
	if len(b.errs) > 0 {
		id := s.addFile("batch_"+b.ID+"_error.jsonl", "batch_output", append(bytes.Join(b.errs, []byte("\n")), '\n')).ID
		b.ErrorFileID = &id
	}
}

// readBatchInput checks the input file as the service documents: every
// line a JSON request with a custom_id unique in the file, method POST,
// the batch's endpoint as url, a body, one model for all, at most
// MaxBatchRequests lines.
func (s *Server) readBatchInput(b *batch) ([]batchLine, []batchErrorItem) {
	f := s.files[b.InputFileID]
	if f == nil {
		return nil, []batchErrorItem{{Code: "invalid_file", Message: "The input file was deleted."}}
	}
	var reqs []batchLine
	var errs []batchErrorItem
	seen := map[string]bool{}
	model := ""
	fail := func(line int, code, msg string) {
		if len(errs) < 10 {
			l := line
			errs = append(errs, batchErrorItem{Code: code, Message: msg, Line: &l})
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	sc.Buffer(nil, len(f.data)+1)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l batchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fail(n, "invalid_json_line", "This line is not parseable as valid JSON.")
			continue
		}
		var body struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(l.Body, &body)
		switch {
		case l.CustomID == "":
			fail(n, "missing_required_parameter", "Missing required parameter: 'custom_id'.")
		case seen[l.CustomID]:
			fail(n, "duplicate_custom_id", "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.")
		case l.Method != http.MethodPost:
			fail(n, "invalid_method", "The method for this request must be POST.")
		case l.URL != b.Endpoint:
			fail(n, "mismatched_endpoint", fmt.Sprintf("The provided endpoint '%s' does not match the batch's endpoint '%s'.", l.URL, b.Endpoint))
		case body.Model == "":
			fail(n, "missing_required_parameter", "Missing required parameter: 'body.model'.")
		case model != "" && body.Model != model:
			fail(n, "mismatched_model", "The provided model for this request does not match the model of the other requests in the batch; a batch takes one model.")
		default:
			model = body.Model
			seen[l.CustomID] = true
			reqs = append(reqs, l)
		}
	}
	switch {
	case len(reqs) > MaxBatchRequests:
		errs = append(errs, batchErrorItem{Code: "too_many_requests", Message: fmt.Sprintf("The batch input file has %d requests; the limit is %d.", len(reqs), MaxBatchRequests)})
	case len(reqs) == 0 && len(errs) == 0:
		errs = append(errs, batchErrorItem{Code: "empty_file", Message: "The batch input file is empty."})
	}
	return reqs, errs
}

func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.lookupBatch(w, r)
	if b == nil {
		return
	}
	if b.Status != "validating" && b.Status != "in_progress" {
		writeError(w, http.StatusConflict, fmt.Sprintf("Cannot cancel a batch with status '%s'.", b.Status), "invalid_request_error", "", "")
		return
	}
	b.Status, b.CancellingAt = "cancelling", s.stamp()
	b.next = len(b.reqs) // requests not run yet are not run
	writeJSON(w, http.StatusOK, b)
}

// listBatches pages through batches, newest first.
func (s *Server) listBatches(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writePage(w, r, reversed(s.batchIDs), 20, s.batches)
}

// EchoEngine answers every chat completion with a reply quoting the last
// message: enough for a client to see the shape of results.
func EchoEngine(_ context.Context, url string, body []byte) (int, []byte) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil || url != "/v1/chat/completions" {
		return http.StatusBadRequest, []byte(`{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`)
	}
	if len(req.Messages) == 0 {
		return http.StatusBadRequest, []byte(`{"error":{"message":"Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.","type":"invalid_request_error","param":"messages","code":"empty_array"}}`)
	}
	last := ""
	if len(req.Messages) > 0 {
		last = req.Messages[len(req.Messages)-1].Content
	}
	reply, _ := json.Marshal(map[string]any{"id": "chatcmpl-standin", "object": "chat.completion", "created": 0, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "echo: " + last}}},
		"usage":   map[string]any{"prompt_tokens": len(last) / 4, "completion_tokens": len(last)/4 + 2, "total_tokens": len(last)/2 + 2}})
	return http.StatusOK, reply
}
