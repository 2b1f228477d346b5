package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/tuneline/tuneline/internal/standin/vertex"
	"github.com/tuneline/tuneline/internal/testenv"
)

// vertexExport exports n chats in the vertex format.
func vertexExport(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"Question %d about glaciers number %d?"},{"role":"assistant","content":"Answer %d: ice moves slowly, %d metres a year."}]}`+"\n", i, i*7, i, i*3)
	}
	in := filepath.Join(dir, "data.jsonl")
	os.WriteFile(in, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "vx")
	if code, o, e := run(t, "export", "--format", "vertex", "--near-dup", "0", "--out", out, in); code != ExitOK && code != ExitLimits {
		t.Fatalf("export: exit %d\n%s\n%s", code, o, e)
	}
	return out
}

// vertexStandin starts the Vertex AI stand-in reading the training data
// from fake-gcs-server, and Application Default Credentials from a
// service-account key whose token endpoint is the stand-in's.
func vertexStandin(t *testing.T) (*vertex.Server, *testenv.GCSEmulator) {
	gcs := testenv.FakeGCSServer(t, "tuning")
	s := vertex.New()
	t.Cleanup(s.Close)
	s.Read = func(uri string) ([]byte, error) {
		bucket, name, _ := strings.Cut(strings.TrimPrefix(uri, "gs://"), "/")
		o, err := gcs.GetObject(bucket, name)
		return o.Content, err
	}
	key := filepath.Join(t.TempDir(), "sa.json")
	if err := s.WriteServiceAccountKey(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", key)
	return s, gcs
}

func TestTuneVertexFromGCS(t *testing.T) {
	s, gcs := vertexStandin(t)
	dir := vertexExport(t, 30)
	if code, o, e := run(t, "publish", "gcs", "gs://tuning/ft/v1", dir); code != ExitOK {
		t.Fatalf("publish gcs: exit %d\n%s\n%s", code, o, e)
	}
	s.Fault("/tuningJobs", 503, 1)
	code, out, errOut := run(t, "tune", "vertex", "--project", "standin-project", "--location", "us-central1", "--base-model", "gemini-2.0-flash-001",
		"--epochs", "2", "--adapter-size", "4", "--learning-rate-multiplier", "0.5", "--display-name", "glaciers", "--poll", "1ms", "--endpoint", s.URL, "gs://tuning/ft/v1")
	if code != ExitOK {
		t.Fatalf("tune vertex: exit %d\n%s", code, errOut)
	}
	names := s.JobNames()
	if len(names) != 1 {
		t.Fatalf("jobs %v", names)
	}
	j, _ := s.Job(names[0])
	spec := j.SupervisedTuningSpec
	if spec.TrainingDatasetUri != "gs://tuning/ft/v1/train.jsonl" || spec.ValidationDatasetUri != "gs://tuning/ft/v1/validation.jsonl" ||
		spec.HyperParameters.EpochCount != 2 || spec.HyperParameters.AdapterSize != "ADAPTER_SIZE_FOUR" || spec.HyperParameters.LearningRateMultiplier != 0.5 ||
		j.TunedModelDisplayName != "glaciers" || j.BaseModel != "gemini-2.0-flash-001" {
		t.Errorf("job created as %+v %+v", j, spec)
	}
	if j.State != vertex.StateSucceeded || strings.TrimSpace(out) != j.TunedModel.Model || !strings.Contains(errOut, "endpoint "+j.TunedModel.Endpoint) {
		t.Errorf("stdout %q, job %s %+v\n%s", out, j.State, j.TunedModel, errOut)
	}
	if !strings.Contains(errOut, "billable tokens") || !strings.Contains(errOut, "JOB_STATE_RUNNING") {
		t.Errorf("stderr lacks the state or the tuning data stats:\n%s", errOut)
	}
	if !strings.Contains(strings.Join(s.Requests(), "\n"), "503\nPOST /v1/projects/standin-project/locations/us-central1/tuningJobs 200") {
		t.Errorf("the 503 was not retried:\n%s", strings.Join(s.Requests(), "\n"))
	}

	// A local export goes up to --bucket first; status and cancel find the
	// service from the job's name.
	code, out, errOut = run(t, "tune", "vertex", "--project", "standin-project", "--location", "us-central1", "--base-model", "gemini-2.0-flash-001",
		"--endpoint", s.URL, "--bucket", "gs://tuning/local", "--no-wait", dir)
	name := strings.TrimSpace(out)
	if code != ExitOK || !strings.HasPrefix(name, "projects/standin-project/locations/us-central1/tuningJobs/") {
		t.Fatalf("--no-wait: exit %d %q\n%s", code, out, errOut)
	}
	if o, err := gcs.GetObject("tuning", "local/train.jsonl"); err != nil || len(o.Content) == 0 {
		t.Errorf("train.jsonl not uploaded: %v", err)
	}
	code, out, errOut = run(t, "tune", "cancel", "--endpoint", s.URL, name)
	if j, _ := s.Job(name); code != ExitOK || j.State != vertex.StateCancelled || !strings.Contains(out, "JOB_STATE_CANCELLED") {
		t.Errorf("cancel: exit %d %q %s\n%s", code, out, j.State, errOut)
	}
	code, out, _ = run(t, "tune", "status", "--endpoint", s.URL, "--json", names[0])
	if code != ExitOK || !strings.Contains(out, `"endpoint": "projects/standin-project/locations/us-central1/endpoints/`) {
		t.Errorf("status --json: exit %d\n%s", code, out)
	}
}

func TestTuneVertexFailures(t *testing.T) {
	s, gcs := vertexStandin(t)
	args := []string{"tune", "vertex", "--project", "standin-project", "--location", "us-central1", "--base-model", "gemini-2.0-flash-001", "--endpoint", s.URL, "--poll", "1ms"}

	// Data that breaks the format: the job fails with the service's message.
	gcs.CreateObject(fakeObject("tuning", "bad/train.jsonl", "{\"messages\":[]}\n"))
	code, _, errOut := run(t, append(args, "gs://tuning/bad")...)
	if code != ExitFailure || !strings.Contains(errOut, "failed: Invalid training dataset gs://tuning/bad/train.jsonl: line 1") {
		t.Errorf("a job failing validation: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, append(args, "gs://tuning/none")...)
	if code != ExitFailure || !strings.Contains(errOut, "has no train.jsonl") {
		t.Errorf("no data: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, append(args, vertexExport(t, 12))...)
	if code != ExitFailure || !strings.Contains(errOut, "--bucket") {
		t.Errorf("local without --bucket: exit %d\n%s", code, errOut)
	}

	// A key the token endpoint does not know: the variable is named.
	other := vertex.New()
	defer other.Close()
	wrong := filepath.Join(t.TempDir(), "wrong.json")
	other.WriteServiceAccountKey(wrong)
	b, _ := os.ReadFile(wrong)
	os.WriteFile(wrong, []byte(strings.ReplaceAll(string(b), other.URL, s.URL)), 0o600)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", wrong)
	code, _, errOut = run(t, append(args, "gs://tuning/bad")...)
	if code != ExitFailure || !strings.Contains(errOut, "GOOGLE_APPLICATION_CREDENTIALS="+wrong) || strings.Contains(errOut, "PRIVATE KEY") {
		t.Errorf("wrong key: exit %d\n%s", code, errOut)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	code, _, errOut = run(t, append(args, "gs://tuning/bad")...)
	if code != ExitFailure || !strings.Contains(errOut, "GOOGLE_APPLICATION_CREDENTIALS") {
		t.Errorf("missing key file: exit %d\n%s", code, errOut)
	}
}

func fakeObject(bucket, name, content string) fakestorage.Object {
	return fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name}, Content: []byte(content)}
}
