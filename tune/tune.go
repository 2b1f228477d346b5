// Package tune runs fine-tuning jobs on hosted services (OpenAI, Vertex AI)
// from tuneline's exports: it uploads the data, creates the job and follows
// it to its end. A job lives on the service, not in the command: following
// can stop (Ctrl-C) and resume later by the job's name (Service.Poll).
package tune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/publish"
)

// Job is a tuning job as tuneline reports it (the --json output, the
// workspace manifest). It never holds a credential.
type Job struct {
	Service   string `json:"service"` // openai | vertex
	ID        string `json:"id"`      // the service's job id or resource name
	Status    string `json:"status"`
	BaseModel string `json:"base_model,omitempty"`
	// Model is the tuned model's name once the job has succeeded.
	Model string `json:"tuned_model,omitempty"`
	// Endpoint serves the tuned model (Vertex AI).
	Endpoint string `json:"endpoint,omitempty"`
	// Error is the service's own message for a failed job.
	Error string `json:"error,omitempty"`
	// Done tells the job has ended (succeeded, failed or cancelled).
	Done bool `json:"done"`
}

// Observer receives what following a job sees. Nil fields are skipped.
type Observer struct {
	// Status is called when the job's state changes.
	Status func(status string)
	// Log is called with each message the service logs for the job.
	Log func(msg string)
	// Metrics is called with training progress: step of total (0 when
	// unknown) and the training loss.
	Metrics func(step, total int, loss float64)
}

func (o *Observer) status(s string) {
	if o != nil && o.Status != nil {
		o.Status(s)
	}
}

func (o *Observer) log(m string) {
	if o != nil && o.Log != nil {
		o.Log(m)
	}
}

func (o *Observer) metrics(step, total int, loss float64) {
	if o != nil && o.Metrics != nil {
		o.Metrics(step, total, loss)
	}
}

// Service is a tuning service's job API.
type Service interface {
	// Name is openai or vertex.
	Name() string
	// Poll looks at a job once, tells obs what is new since the last
	// look and returns the job.
	Poll(ctx context.Context, id string, obs *Observer) (Job, error)
	// Cancel asks the service to stop a job.
	Cancel(ctx context.Context, id string) (Job, error)
}

// FailedError is a job that ended without a model.
type FailedError struct{ Job Job }

func (e *FailedError) Error() string {
	if e.Job.Status == "cancelled" || strings.Contains(strings.ToLower(e.Job.Status), "cancel") {
		return fmt.Sprintf("%s job %s was cancelled", e.Job.Service, e.Job.ID)
	}
	msg := e.Job.Error
	if msg == "" {
		msg = "the service gave no reason"
	}
	return fmt.Sprintf("%s job %s failed: %s", e.Job.Service, e.Job.ID, msg)
}

// DetachedError is following stopped before the job ended (the context was
// cancelled, as by Ctrl-C): the job goes on at the service.
type DetachedError struct {
	Job   Job
	Cause error
}

func (e *DetachedError) Error() string {
	return fmt.Sprintf("stopped following %s job %s (%s); the job goes on: follow it again with `tuneline tune status --wait %s`, or stop it with `tuneline tune cancel %s`",
		e.Job.Service, e.Job.ID, e.Job.Status, e.Job.ID, e.Job.ID)
}

func (e *DetachedError) Unwrap() error { return e.Cause }

// The services, each named as the export format it tunes from.
const (
	ServiceOpenAI = format.TargetOpenAI
	ServiceVertex = format.TargetVertex
)

// DefaultPoll is how often a job is looked at while it is followed.
const DefaultPoll = 15 * time.Second

// Follow polls job id every interval until it ends. A job that succeeds is
// returned; one that fails or is cancelled gives a *FailedError; a
// cancelled ctx gives a *DetachedError (the job is left running).
func Follow(ctx context.Context, s Service, id string, every time.Duration, obs *Observer) (Job, error) {
	if every <= 0 {
		every = DefaultPoll
	}
	last := Job{Service: s.Name(), ID: id, Status: "unknown"}
	for {
		j, err := s.Poll(ctx, id, obs)
		if err != nil {
			if ctx.Err() != nil {
				return last, &DetachedError{Job: last, Cause: ctx.Err()}
			}
			return last, err
		}
		last = j
		if j.Done {
			if j.Model == "" {
				return j, &FailedError{Job: j}
			}
			return j, nil
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return j, &DetachedError{Job: j, Cause: ctx.Err()}
		case <-t.C:
		}
	}
}

// ServiceOf tells which service a job id belongs to: Vertex AI's are
// resource names (projects/P/locations/L/tuningJobs/N), OpenAI's start with
// ftjob-.
func ServiceOf(id string) (string, error) {
	switch {
	case strings.HasPrefix(id, "projects/") && strings.Contains(id, "/tuningJobs/"):
		return ServiceVertex, nil
	case strings.HasPrefix(id, "ftjob-"):
		return ServiceOpenAI, nil
	}
	return "", fmt.Errorf("job %q: not an OpenAI job id (ftjob-...) or a Vertex AI tuning job name (projects/P/locations/L/tuningJobs/N)", id)
}

// ErrRandomModel is data made by tuneline's tiny random-weight model.
var ErrRandomModel = errors.New("was made by tuneline's tiny random-weight model (a test model): its examples are noise; use --force to tune on it anyway")

// ReadExport reads dir's export report and checks that dir is an export
// in format target, with no data from the random-weight test model unless
// force.
func ReadExport(dir, target string, force bool) (*format.Report, error) {
	p := filepath.Join(dir, publish.ReportFile)
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a tuneline export (no %s): make one with `tuneline export --format %s --out %s ...`", dir, publish.ReportFile, target, dir)
		}
		return nil, err
	}
	return checkReport(p, dir, b, target, force)
}

// checkReport reads an export report (b, read from where) of the export in
// dir.
func checkReport(where, dir string, b []byte, target string, force bool) (*format.Report, error) {
	var rep format.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if rep.Target != target {
		return nil, fmt.Errorf("%s is a %s export; this needs `tuneline export --format %s`", dir, rep.Target, target)
	}
	if rep.RandomModel && !force {
		return nil, fmt.Errorf("%s %w", dir, ErrRandomModel)
	}
	return &rep, nil
}

// splitFile is the file of split in an export folder, "" when the export
// has none (an empty validation split is not written).
func splitFile(dir string, rep *format.Report, split string) string {
	sr, ok := rep.Splits[split]
	if !ok || sr.Examples == 0 {
		return ""
	}
	p := filepath.Join(dir, split+".jsonl")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
