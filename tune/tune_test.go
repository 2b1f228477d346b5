package tune

import (
	"encoding/json"
	"testing"

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
