package tune

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tuneline/tuneline/format"
)

func TestServiceOf(t *testing.T) {
	for id, want := range map[string]string{
		"ftjob-abc123": "openai",
		"projects/p/locations/us-central1/tuningJobs/123": "vertex",
		"job-1":                              "",
		"projects/p/locations/l/endpoints/1": "",
	} {
		got, err := ServiceOf(id)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ServiceOf(%q) = %q, %v; want %q", id, got, err, want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	cases := []struct {
		h    http.Header
		min  time.Duration
		max  time.Duration
		name string
	}{
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second, 2 * time.Second, "seconds"},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, 250 * time.Millisecond, "ms first"},
		{http.Header{"Retry-After": {time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)}}, time.Second, 3 * time.Second, "date"},
		{http.Header{"Retry-After": {"3600"}}, 375 * time.Millisecond, 500 * time.Millisecond, "over a minute: backoff"},
		{nil, 375 * time.Millisecond, 500 * time.Millisecond, "none"},
	}
	for _, c := range cases {
		if d := retryDelay(c.h, 0); d < c.min || d > c.max {
			t.Errorf("%s: %v not in [%v, %v]", c.name, d, c.min, c.max)
		}
	}
	if d := retryDelay(nil, 10); d > 8*time.Second || d < 6*time.Second {
		t.Errorf("backoff cap: %v", d)
	}
}

func TestJobRequest(t *testing.T) {
	seed := int64(3)
	chat := &format.Report{Kind: format.KindChat}
	req, err := jobRequest(chat, OpenAIOptions{Model: "gpt-4o-mini", Epochs: 2, Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(req)
	want := `{"model":"gpt-4o-mini","training_file":"","seed":3,"method":{"type":"supervised","supervised":{"hyperparameters":{"n_epochs":2}}}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	req, _ = jobRequest(&format.Report{Kind: format.KindPreference}, OpenAIOptions{Model: "m", Beta: 0.1})
	b, _ = json.Marshal(req)
	if want := `{"model":"m","training_file":"","method":{"type":"dpo","dpo":{"hyperparameters":{"beta":0.1}}}}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if _, err := jobRequest(chat, OpenAIOptions{Model: "m", Beta: 0.1}); err == nil {
		t.Error("--beta on a chat export was taken")
	}
	if _, err := jobRequest(chat, OpenAIOptions{}); err == nil {
		t.Error("no model was taken")
	}
}
