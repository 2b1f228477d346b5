package tune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/rest"
	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/publish/gcs"
)

// VertexOptions configure Vertex AI: the connection (Endpoint) and a job.
// Zero values leave the choice to the service.
type VertexOptions struct {
	Project  string
	Location string
	// Endpoint is the service's URL (default
	// https://LOCATION-aiplatform.googleapis.com).
	Endpoint  string
	BaseModel string
	// DisplayName is the tuned model's display name.
	DisplayName            string
	Epochs                 int
	AdapterSize            int // 1, 2, 4, 8, 16 or 32
	LearningRateMultiplier float64
	// Bucket (gs://BUCKET/PREFIX) receives a local export before the job.
	Bucket string
	// Force takes data made by the random-weight test model.
	Force bool
	// Uploaded reports the bytes uploaded to Bucket so far.
	Uploaded func(done, total int64)
}

// CloudPlatformScope is the OAuth scope Vertex AI needs.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// Vertex is Vertex AI's v1 tuningJobs API, authorized by Application
// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS' key file, gcloud's
// application-default login, or the metadata server), spoken over HTTP
// with the request and response JSON of google.golang.org/api/aiplatform/v1
// (its tests prove the stand-in against that client; linking the generated
// client itself, one 180,000-line file, was not needed for four calls).
type Vertex struct {
	api    *rest.Client
	opt    VertexOptions
	status map[string]string
	stats  map[string]bool
}

// NewVertex finds the credentials and makes a client for opt.Endpoint, or
// for the regional endpoint of opt.Location. A job name's own location is
// used when opt has none (status, cancel).
func NewVertex(ctx context.Context, opt VertexOptions) (*Vertex, error) {
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{CloudPlatformScope}})
	if err != nil {
		return nil, fmt.Errorf("vertex: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file or run `gcloud auth application-default login` (%w)", err)
	}
	v := &Vertex{opt: opt, status: map[string]string{}, stats: map[string]bool{}}
	v.api = &rest.Client{Base: strings.TrimRight(opt.Endpoint, "/"), HC: http.DefaultClient, DecodeErr: v.apiError,
		Token: func(ctx context.Context) (string, error) {
			t, err := creds.Token(ctx)
			if err != nil {
				return "", fmt.Errorf("vertex: the credentials from %s gave no access token: %w", gcs.CredentialsSource(), err)
			}
			return t.Value, nil
		}}
	return v, nil
}

// Name implements Service.
func (*Vertex) Name() string { return ServiceVertex }

// apiError reads a Google API error body: {"error": {code, message, status}}.
func (v *Vertex) apiError(status int, body []byte) error {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	out := &rest.APIError{Service: ServiceVertex, Status: status}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		out.Message, out.Code = e.Error.Message, e.Error.Status
	} else {
		out.Message = strings.TrimSpace(string(body))
	}
	switch {
	case status == http.StatusUnauthorized:
		out.Hint = "Google refused the credentials from " + gcs.CredentialsSource()
	case status == http.StatusForbidden:
		out.Hint = "the account of " + gcs.CredentialsSource() + " needs the Vertex AI User role (roles/aiplatform.user) on the project, and the Vertex AI API enabled"
	case status == http.StatusTooManyRequests:
		out.Hint = "quota exhausted, still after retries; try again later or ask for more tuning quota in the region"
	case status >= 500:
		out.Hint = "the service failed, still after retries; try again later"
	}
	return out
}

var jobName = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)/tuningJobs/[^/:]+$`)

// base is the service URL for location.
func (v *Vertex) base(location string) string {
	if v.api.Base != "" {
		return v.api.Base
	}
	return "https://" + location + "-aiplatform.googleapis.com"
}

func (v *Vertex) do(ctx context.Context, location, method, p string, body rest.Body, out any) error {
	c := *v.api
	c.Base = v.base(location)
	return c.Do(ctx, method, "/v1/"+p, body, out)
}

// vertexJob is the API's TuningJob (the fields used here).
type vertexJob struct {
	Name                  string             `json:"name,omitempty"`
	BaseModel             string             `json:"baseModel,omitempty"`
	TunedModelDisplayName string             `json:"tunedModelDisplayName,omitempty"`
	SupervisedTuningSpec  *vertexSupervised  `json:"supervisedTuningSpec,omitempty"`
	State                 string             `json:"state,omitempty"`
	Error                 *vertexStatus      `json:"error,omitempty"`
	TunedModel            *vertexTunedModel  `json:"tunedModel,omitempty"`
	TuningDataStats       *vertexTuningStats `json:"tuningDataStats,omitempty"`
	Labels                map[string]string  `json:"labels,omitempty"`
}

type vertexSupervised struct {
	TrainingDatasetUri   string       `json:"trainingDatasetUri"`
	ValidationDatasetUri string       `json:"validationDatasetUri,omitempty"`
	HyperParameters      *vertexHyper `json:"hyperParameters,omitempty"`
}

type vertexHyper struct {
	EpochCount             int64   `json:"epochCount,omitempty,string"`
	AdapterSize            string  `json:"adapterSize,omitempty"`
	LearningRateMultiplier float64 `json:"learningRateMultiplier,omitempty"`
}

type vertexStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type vertexTunedModel struct {
	Model    string `json:"model"`
	Endpoint string `json:"endpoint"`
}

type vertexTuningStats struct {
	Supervised *struct {
		Examples       int64 `json:"tuningDatasetExampleCount,omitempty,string"`
		BillableTokens int64 `json:"totalBillableTokenCount,omitempty,string"`
		Steps          int64 `json:"tuningStepCount,omitempty,string"`
	} `json:"supervisedTuningDataStats,omitempty"`
}

// adapterSizes are the API's names of the adapter sizes.
var adapterSizes = map[int]string{1: "ADAPTER_SIZE_ONE", 2: "ADAPTER_SIZE_TWO", 4: "ADAPTER_SIZE_FOUR", 8: "ADAPTER_SIZE_EIGHT", 16: "ADAPTER_SIZE_SIXTEEN", 32: "ADAPTER_SIZE_THIRTY_TWO"}

// vertexRequest builds the body of tuningJobs.create.
func vertexRequest(opt VertexOptions, train, validation string) (*vertexJob, error) {
	if opt.Project == "" || opt.Location == "" || opt.BaseModel == "" {
		return nil, errors.New("vertex: --project, --location and --base-model are all needed")
	}
	req := &vertexJob{BaseModel: opt.BaseModel, TunedModelDisplayName: opt.DisplayName,
		SupervisedTuningSpec: &vertexSupervised{TrainingDatasetUri: train, ValidationDatasetUri: validation}}
	hp := vertexHyper{EpochCount: int64(opt.Epochs), LearningRateMultiplier: opt.LearningRateMultiplier}
	if opt.AdapterSize != 0 {
		name, ok := adapterSizes[opt.AdapterSize]
		if !ok {
			return nil, fmt.Errorf("vertex: --adapter-size %d: want 1, 2, 4, 8, 16 or 32", opt.AdapterSize)
		}
		hp.AdapterSize = name
	}
	if hp != (vertexHyper{}) {
		req.SupervisedTuningSpec.HyperParameters = &hp
	}
	return req, nil
}

// Start creates a supervised tuning job from source: a gs:// prefix that
// holds a vertex export's train.jsonl (and validation.jsonl), or a local
// vertex export, uploaded first under opt.Bucket (objects whose content is
// already there are left alone).
func (v *Vertex) Start(ctx context.Context, source string) (Job, error) {
	var train, val string
	var err error
	if strings.HasPrefix(source, "gs://") {
		train, val, err = v.remoteExport(ctx, source)
	} else {
		train, val, err = v.uploadExport(ctx, source)
	}
	if err != nil {
		return Job{}, err
	}
	req, err := vertexRequest(v.opt, train, val)
	if err != nil {
		return Job{}, err
	}
	var j vertexJob
	parent := "projects/" + v.opt.Project + "/locations/" + v.opt.Location
	if err := v.do(ctx, v.opt.Location, "POST", parent+"/tuningJobs", rest.JSON(req), &j); err != nil {
		return Job{}, fmt.Errorf("vertex: create the tuning job in %s: %w", parent, err)
	}
	return v.job(&j), nil
}

// uploadExport checks a local vertex export and uploads it to opt.Bucket.
func (v *Vertex) uploadExport(ctx context.Context, dir string) (train, val string, err error) {
	rep, err := ReadExport(dir, ServiceVertex, v.opt.Force)
	if err != nil {
		return "", "", err
	}
	if v.opt.Bucket == "" {
		return "", "", fmt.Errorf("vertex: %s is a local folder: give --bucket gs://BUCKET/PREFIX to upload it to, or a gs:// copy (tuneline publish gcs)", dir)
	}
	files := []string{publish.ReportFile}
	trainFile, valFile := splitFile(dir, rep, format.SplitTrain), splitFile(dir, rep, format.SplitValidation)
	if trainFile == "" {
		return "", "", fmt.Errorf("%s has no train.jsonl with examples", dir)
	}
	files = append(files, path.Base(trainFile))
	if valFile != "" {
		files = append(files, path.Base(valFile))
	}
	res, err := gcs.UploadDir(ctx, v.opt.Bucket, dir, gcs.Options{Files: files, Progress: v.opt.Uploaded})
	if err != nil {
		return "", "", fmt.Errorf("vertex: upload %s to %s: %w", dir, v.opt.Bucket, err)
	}
	train = res.URI(path.Base(trainFile))
	if valFile != "" {
		val = res.URI(path.Base(valFile))
	}
	return train, val, nil
}

// remoteExport checks a gs:// copy of a vertex export: its report (when
// there) must be a vertex export not made by the random-weight model, and
// train.jsonl must exist.
func (v *Vertex) remoteExport(ctx context.Context, prefix string) (train, val string, err error) {
	bucket, p, err := gcs.ParseURL(prefix)
	if err != nil {
		return "", "", err
	}
	client, err := gcs.NewClient(ctx)
	if err != nil {
		return "", "", err
	}
	defer client.Close()
	bkt := client.Bucket(bucket)
	name := func(f string) string {
		if p == "" {
			return f
		}
		return p + "/" + f
	}
	uri := func(f string) string { return "gs://" + bucket + "/" + name(f) }
	if r, err := bkt.Object(name(publish.ReportFile)).NewReader(ctx); err == nil {
		b, err := io.ReadAll(io.LimitReader(r, 64<<20))
		r.Close()
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", uri(publish.ReportFile), err)
		}
		if _, err := checkReport(uri(publish.ReportFile), prefix, b, ServiceVertex, v.opt.Force); err != nil {
			return "", "", err
		}
	} else if !errors.Is(err, storage.ErrObjectNotExist) {
		return "", "", fmt.Errorf("%s: %w", uri(publish.ReportFile), err)
	}
	if _, err := bkt.Object(name("train.jsonl")).Attrs(ctx); err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) {
			return "", "", fmt.Errorf("%s has no train.jsonl: copy a vertex export there with `tuneline publish gcs %s EXPORT_DIR`", prefix, prefix)
		}
		return "", "", fmt.Errorf("%s: %w", uri("train.jsonl"), err)
	}
	if _, err := bkt.Object(name("validation.jsonl")).Attrs(ctx); err == nil {
		val = uri("validation.jsonl")
	} else if !errors.Is(err, storage.ErrObjectNotExist) {
		return "", "", fmt.Errorf("%s: %w", uri("validation.jsonl"), err)
	}
	return uri("train.jsonl"), val, nil
}

func (v *Vertex) job(j *vertexJob) Job {
	out := Job{Service: ServiceVertex, ID: j.Name, Status: j.State, BaseModel: j.BaseModel}
	switch j.State {
	case "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED":
		out.Done = true
	}
	if j.State == "JOB_STATE_SUCCEEDED" && j.TunedModel != nil {
		out.Model, out.Endpoint = j.TunedModel.Model, j.TunedModel.Endpoint
	}
	if j.Error != nil && j.Error.Message != "" && j.State != "JOB_STATE_CANCELLED" {
		out.Error = j.Error.Message
	}
	return out
}

func locationOf(name string) (string, error) {
	m := jobName.FindStringSubmatch(name)
	if m == nil {
		return "", fmt.Errorf("vertex: %q is not a tuning job name (projects/P/locations/L/tuningJobs/N)", name)
	}
	return m[2], nil
}

// Poll implements Service: the job's state, and its tuning data statistics
// once the service has them.
func (v *Vertex) Poll(ctx context.Context, name string, obs *Observer) (Job, error) {
	loc, err := locationOf(name)
	if err != nil {
		return Job{}, err
	}
	var j vertexJob
	if err := v.do(ctx, loc, "GET", name, nil, &j); err != nil {
		return Job{}, fmt.Errorf("vertex: get %s: %w", name, err)
	}
	if st := j.TuningDataStats; st != nil && st.Supervised != nil && !v.stats[name] {
		v.stats[name] = true
		s := st.Supervised
		obs.log(fmt.Sprintf("tuning data: %d examples, %d billable tokens, %d steps", s.Examples, s.BillableTokens, s.Steps))
		obs.metrics(0, int(s.Steps), -1)
	}
	out := v.job(&j)
	if v.status[name] != out.Status {
		v.status[name] = out.Status
		obs.status(out.Status)
	}
	return out, nil
}

// Cancel implements Service: the cancel request, then the job as it is.
func (v *Vertex) Cancel(ctx context.Context, name string) (Job, error) {
	loc, err := locationOf(name)
	if err != nil {
		return Job{}, err
	}
	if err := v.do(ctx, loc, "POST", name+":cancel", rest.JSON(struct{}{}), nil); err != nil {
		return Job{}, fmt.Errorf("vertex: cancel %s: %w", name, err)
	}
	return v.Poll(ctx, name, nil)
}
