package vertex

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"cloud.google.com/go/auth/credentials"
	aiplatform "google.golang.org/api/aiplatform/v1"
	"google.golang.org/api/option"
)

// TestGoClient proves the stand-in against Google's own Go client for
// Vertex AI (google.golang.org/api/aiplatform/v1) authenticated by
// Application Default Credentials from a service-account key: the key's
// signed JWT is exchanged at the stand-in's token endpoint, then a tuning
// job is created, read until it succeeds, listed, and another cancelled.
func TestGoClient(t *testing.T) {
	s := New()
	defer s.Close()
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(`{"contents":[{"role":"user","parts":[{"text":"q %d"}]},{"role":"model","parts":[{"text":"a %d"}]}]}`, i, i))
	}
	s.Read = func(uri string) ([]byte, error) {
		if uri != "gs://bucket/ft/train.jsonl" {
			return nil, fmt.Errorf("no such object %s", uri)
		}
		return []byte(strings.Join(lines, "\n") + "\n"), nil
	}
	key := filepath.Join(t.TempDir(), "key.json")
	if err := s.WriteServiceAccountKey(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", key)
	ctx := context.Background()
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := aiplatform.NewService(ctx, option.WithEndpoint(s.URL+"/"), option.WithAuthCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	jobs := svc.Projects.Locations.TuningJobs
	parent := "projects/standin-project/locations/us-central1"
	created, err := jobs.Create(parent, &aiplatform.GoogleCloudAiplatformV1TuningJob{
		BaseModel: "gemini-2.0-flash-001",
		SupervisedTuningSpec: &aiplatform.GoogleCloudAiplatformV1SupervisedTuningSpec{
			TrainingDatasetUri: "gs://bucket/ft/train.jsonl",
			HyperParameters:    &aiplatform.GoogleCloudAiplatformV1SupervisedHyperParameters{EpochCount: 2, AdapterSize: "ADAPTER_SIZE_FOUR", LearningRateMultiplier: 0.5},
		},
		TunedModelDisplayName: "standin-model",
	}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if created.State != StatePending || !strings.HasPrefix(created.Name, parent+"/tuningJobs/") || created.SupervisedTuningSpec.HyperParameters.EpochCount != 2 {
		t.Fatalf("created %+v", created)
	}
	var got *aiplatform.GoogleCloudAiplatformV1TuningJob
	states := []string{created.State}
	for range 10 {
		if got, err = jobs.Get(created.Name).Context(ctx).Do(); err != nil {
			t.Fatal(err)
		}
		if states[len(states)-1] != got.State {
			states = append(states, got.State)
		}
		if got.State == StateSucceeded {
			break
		}
	}
	if strings.Join(states, " ") != "JOB_STATE_PENDING JOB_STATE_RUNNING JOB_STATE_SUCCEEDED" {
		t.Errorf("states %v", states)
	}
	st := got.TuningDataStats.SupervisedTuningDataStats
	if st.TuningDatasetExampleCount != 12 || st.TuningStepCount != 4 || got.TunedModel == nil ||
		!strings.HasPrefix(got.TunedModel.Endpoint, parent+"/endpoints/") || !strings.HasPrefix(got.TunedModel.Model, parent+"/models/") {
		t.Errorf("job %+v stats %+v", got, st)
	}
	list, err := jobs.List(parent).Context(ctx).Do()
	if err != nil || len(list.TuningJobs) != 1 || list.TuningJobs[0].Name != created.Name {
		t.Errorf("list: %v %+v", err, list)
	}

	other, err := jobs.Create(parent, &aiplatform.GoogleCloudAiplatformV1TuningJob{BaseModel: "gemini-2.0-flash-001",
		SupervisedTuningSpec: &aiplatform.GoogleCloudAiplatformV1SupervisedTuningSpec{TrainingDatasetUri: "gs://bucket/missing.jsonl"}}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	failed, err := jobs.Get(other.Name).Context(ctx).Do()
	if err != nil || failed.State != StateFailed || !strings.Contains(failed.Error.Message, "no such object") {
		t.Errorf("a job on missing data: %v %+v", err, failed)
	}
	third, _ := jobs.Create(parent, &aiplatform.GoogleCloudAiplatformV1TuningJob{BaseModel: "gemini-2.0-flash-001",
		SupervisedTuningSpec: &aiplatform.GoogleCloudAiplatformV1SupervisedTuningSpec{TrainingDatasetUri: "gs://bucket/ft/train.jsonl"}}).Context(ctx).Do()
	if _, err := jobs.Cancel(third.Name, &aiplatform.GoogleCloudAiplatformV1CancelTuningJobRequest{}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if c, _ := jobs.Get(third.Name).Context(ctx).Do(); c.State != StateCancelled {
		t.Errorf("cancelled job in %s", c.State)
	}
	_, err = jobs.Create(parent, &aiplatform.GoogleCloudAiplatformV1TuningJob{BaseModel: "gemini-2.0-flash-001",
		SupervisedTuningSpec: &aiplatform.GoogleCloudAiplatformV1SupervisedTuningSpec{TrainingDatasetUri: "/local/train.jsonl"}}).Context(ctx).Do()
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Cloud Storage uri") {
		t.Errorf("a local path: %v", err)
	}
	if s.Tokens() != 1 {
		t.Errorf("%d access tokens issued, want 1 (the client caches its token)", s.Tokens())
	}

	// A client without the key's token is refused.
	bare, _ := aiplatform.NewService(ctx, option.WithEndpoint(s.URL+"/"), option.WithoutAuthentication())
	if _, err := bare.Projects.Locations.TuningJobs.Get(created.Name).Context(ctx).Do(); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("no credentials: %v", err)
	}
}
