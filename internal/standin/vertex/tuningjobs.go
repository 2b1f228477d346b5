package vertex

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	aiplatform "google.golang.org/api/aiplatform/v1"
)

type tuningJob struct {
	job  aiplatform.GoogleCloudAiplatformV1TuningJob
	tick int
}

var (
	parentPath = regexp.MustCompile(`^/v1/(projects/[^/]+/locations/[^/]+)/tuningJobs$`)
	jobPath    = regexp.MustCompile(`^/v1/(projects/[^/]+/locations/[^/]+/tuningJobs/[0-9]+)(:cancel)?$`)
)

// A job's states.
const (
	StatePending   = "JOB_STATE_PENDING"
	StateRunning   = "JOB_STATE_RUNNING"
	StateSucceeded = "JOB_STATE_SUCCEEDED"
	StateFailed    = "JOB_STATE_FAILED"
	StateCancelled = "JOB_STATE_CANCELLED"
)

// Adapter sizes the API takes.
var adapterSizes = map[string]bool{"": true, "ADAPTER_SIZE_UNSPECIFIED": true, "ADAPTER_SIZE_ONE": true, "ADAPTER_SIZE_TWO": true,
	"ADAPTER_SIZE_FOUR": true, "ADAPTER_SIZE_EIGHT": true, "ADAPTER_SIZE_SIXTEEN": true, "ADAPTER_SIZE_THIRTY_TWO": true}

func (s *Server) tuningJobs(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if m := parentPath.FindStringSubmatch(p); m != nil {
		switch r.Method {
		case http.MethodPost:
			s.createJob(w, r, m[1])
		case http.MethodGet:
			s.listJobs(w, m[1])
		default:
			writeStatus(w, http.StatusMethodNotAllowed, "Method not allowed")
		}
		return
	}
	m := jobPath.FindStringSubmatch(p)
	if m == nil {
		writeStatus(w, http.StatusNotFound, "The requested URL "+p+" was not found on this server.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[m[1]]
	if !ok {
		writeStatus(w, http.StatusNotFound, fmt.Sprintf("The TuningJob does not exist: %s", m[1]))
		return
	}
	switch {
	case m[2] == ":cancel" && r.Method == http.MethodPost:
		switch j.job.State {
		case StateSucceeded, StateFailed, StateCancelled:
			writeStatus(w, http.StatusBadRequest, fmt.Sprintf("The TuningJob %s is in state %s and cannot be cancelled.", j.job.Name, j.job.State))
			return
		}
		j.job.State = StateCancelled
		j.job.Error = rpcStatus(1, "CANCELED")
		j.job.EndTime = now()
		writeJSON(w, http.StatusOK, map[string]any{})
	case m[2] == "" && r.Method == http.MethodGet:
		s.advance(j)
		writeJSON(w, http.StatusOK, &j.job)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "Method not allowed")
	}
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func (s *Server) createJob(w http.ResponseWriter, r *http.Request, parent string) {
	var in aiplatform.GoogleCloudAiplatformV1TuningJob
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeStatus(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return
	}
	spec := in.SupervisedTuningSpec
	switch {
	case in.BaseModel == "":
		writeStatus(w, http.StatusBadRequest, "Base model must be set.")
		return
	case spec == nil:
		writeStatus(w, http.StatusBadRequest, "A tuning spec (supervisedTuningSpec) must be set.")
		return
	case !strings.HasPrefix(spec.TrainingDatasetUri, "gs://"):
		writeStatus(w, http.StatusBadRequest, fmt.Sprintf("Training dataset uri must be a Cloud Storage uri (gs://...); got %q.", spec.TrainingDatasetUri))
		return
	case spec.ValidationDatasetUri != "" && !strings.HasPrefix(spec.ValidationDatasetUri, "gs://"):
		writeStatus(w, http.StatusBadRequest, fmt.Sprintf("Validation dataset uri must be a Cloud Storage uri (gs://...); got %q.", spec.ValidationDatasetUri))
		return
	case spec.HyperParameters != nil && !adapterSizes[spec.HyperParameters.AdapterSize]:
		writeStatus(w, http.StatusBadRequest, fmt.Sprintf("Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size' (type.googleapis.com/google.cloud.aiplatform.v1.SupervisedHyperParameters.AdapterSize), %q", spec.HyperParameters.AdapterSize))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	j := &tuningJob{job: in}
	j.job.Name = fmt.Sprintf("%s/tuningJobs/%d", parent, 1000000+s.seq)
	j.job.State = StatePending
	j.job.CreateTime = now()
	j.job.UpdateTime = j.job.CreateTime
	if j.job.TunedModelDisplayName == "" {
		j.job.TunedModelDisplayName = in.BaseModel + "-tuned"
	}
	s.jobs[j.job.Name] = j
	s.jobNames = append(s.jobNames, j.job.Name)
	writeJSON(w, http.StatusOK, &j.job)
}

// advance moves a job one step on with each read: pending, then running
// with its tuning data statistics (or failed, when the training data breaks
// the documented format), then after Steps reads succeeded with its tuned
// model and endpoint.
func (s *Server) advance(j *tuningJob) {
	switch j.job.State {
	case StateSucceeded, StateFailed, StateCancelled:
		return
	}
	j.tick++
	j.job.UpdateTime = now()
	loc := strings.Split(j.job.Name, "/tuningJobs/")[0]
	switch {
	case j.tick == 1:
		stats, msg := s.dataStats(j)
		if msg != "" {
			j.job.State = StateFailed
			j.job.Error = rpcStatus(3, msg)
			j.job.EndTime = now()
			return
		}
		j.job.State = StateRunning
		j.job.StartTime = now()
		j.job.TuningDataStats = &aiplatform.GoogleCloudAiplatformV1TuningDataStats{SupervisedTuningDataStats: stats}
	case j.tick > s.Steps:
		s.seq++
		j.job.State = StateSucceeded
		j.job.EndTime = now()
		j.job.TunedModel = &aiplatform.GoogleCloudAiplatformV1TunedModel{
			Model:    fmt.Sprintf("%s/models/%d@1", loc, 2000000+s.seq),
			Endpoint: fmt.Sprintf("%s/endpoints/%d", loc, 3000000+s.seq),
		}
	}
}

// dataStats reads the training data (when the server can read gs://) and
// checks each line is a Gemini example: JSON with contents, each a role
// (user or model) and parts. A message says why the data is refused.
func (s *Server) dataStats(j *tuningJob) (*aiplatform.GoogleCloudAiplatformV1SupervisedTuningDataStats, string) {
	uri := j.job.SupervisedTuningSpec.TrainingDatasetUri
	stats := &aiplatform.GoogleCloudAiplatformV1SupervisedTuningDataStats{}
	if s.Read == nil {
		return stats, ""
	}
	data, err := s.Read(uri)
	if err != nil {
		return nil, fmt.Sprintf("Failed to read the training dataset %s: %v", uri, err)
	}
	var chars int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row struct {
			Contents []*aiplatform.GoogleCloudAiplatformV1Content `json:"contents"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || len(row.Contents) == 0 {
			return nil, fmt.Sprintf("Invalid training dataset %s: line %d is not a JSON object with contents", uri, line)
		}
		for _, c := range row.Contents {
			if c.Role != "user" && c.Role != "model" || len(c.Parts) == 0 {
				return nil, fmt.Sprintf("Invalid training dataset %s: line %d: each content needs role user or model and parts", uri, line)
			}
			for _, p := range c.Parts {
				chars += int64(len(p.Text))
			}
		}
		stats.TuningDatasetExampleCount++
	}
	if stats.TuningDatasetExampleCount == 0 {
		return nil, fmt.Sprintf("Invalid training dataset %s: no examples", uri)
	}
	epochs := int64(3)
	if hp := j.job.SupervisedTuningSpec.HyperParameters; hp != nil && hp.EpochCount > 0 {
		epochs = hp.EpochCount
	}
	stats.TotalTuningCharacterCount = chars
	stats.TotalBillableTokenCount = epochs * (chars/4 + 1)
	stats.TuningStepCount = epochs * ((stats.TuningDatasetExampleCount + 7) / 8)
	return stats, ""
}

func (s *Server) listJobs(w http.ResponseWriter, parent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := aiplatform.GoogleCloudAiplatformV1ListTuningJobsResponse{}
	for i := len(s.jobNames) - 1; i >= 0; i-- {
		if strings.HasPrefix(s.jobNames[i], parent+"/") {
			out.TuningJobs = append(out.TuningJobs, &s.jobs[s.jobNames[i]].job)
		}
	}
	writeJSON(w, http.StatusOK, &out)
}

// JobNames lists the jobs created, oldest first (for tests).
func (s *Server) JobNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.jobNames...)
}

// Job returns a copy of a job as the service holds it (for tests).
func (s *Server) Job(name string) (aiplatform.GoogleCloudAiplatformV1TuningJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[name]
	if !ok {
		return aiplatform.GoogleCloudAiplatformV1TuningJob{}, false
	}
	return j.job, true
}
