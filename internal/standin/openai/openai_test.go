package openai

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

// NodeClientVersion is the release of the official npm `openai` client the
// stand-in is proven against (the newest 6.x; 7.x needs Node 22).
const NodeClientVersion = "6.49.0"

// clientScript drives the stand-in with the official client the way an
// application does, and prints what it saw as one JSON object. Every call
// it makes must succeed (or fail with the documented error class) for the
// script to exit 0.
const clientScript = `
const fs = require('fs');
const mod = require(process.argv[2] + '/node_modules/openai');
const OpenAI = mod.default || mod.OpenAI || mod;
const assert = (c, m) => { if (!c) throw new Error('assertion failed: ' + m); };
(async () => {
  const client = new OpenAI({ maxRetries: 3 }); // OPENAI_API_KEY, OPENAI_BASE_URL from the environment
  const out = {};
  const up = await client.files.create({ file: fs.createReadStream(process.argv[3]), purpose: 'fine-tune' });
  assert(up.object === 'file' && up.purpose === 'fine-tune' && up.status === 'processed', JSON.stringify(up));
  out.uploadBytes = up.bytes;
  out.filename = up.filename;
  const got = await client.files.retrieve(up.id);
  assert(got.id === up.id, 'retrieve');
  const content = await (await client.files.content(up.id)).text();
  out.roundTrip = content === fs.readFileSync(process.argv[3], 'utf8');
  const pref = await client.files.create({ file: fs.createReadStream(process.argv[4]), purpose: 'fine-tune' });
  const listed = [];
  for await (const f of client.files.list({ purpose: 'fine-tune', limit: 1 })) listed.push(f.id);
  out.listed = listed;

  const job = await client.fineTuning.jobs.create({
    model: 'gpt-4o-mini-2024-07-18', training_file: up.id, suffix: 'standin', seed: 7,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 } } },
  });
  out.created = job.status;
  let j = job;
  const statuses = [job.status];
  while (!['succeeded', 'failed', 'cancelled'].includes(j.status)) {
    j = await client.fineTuning.jobs.retrieve(job.id);
    if (statuses[statuses.length - 1] !== j.status) statuses.push(j.status);
  }
  out.statuses = statuses;
  out.model = j.fine_tuned_model;
  out.hyper = j.method.supervised.hyperparameters;
  out.seed = j.seed;
  const events = [];
  for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 3 })) events.push(e);
  out.metrics = events.filter(e => e.type === 'metrics').map(e => e.data.step);
  out.newestFirst = events[0].created_at >= events[events.length - 1].created_at;
  const jobs = [];
  for await (const x of client.fineTuning.jobs.list()) jobs.push(x.id);
  out.jobListed = jobs.includes(job.id);

  const dpo = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: pref.id, method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } } });
  const cancelled = await client.fineTuning.jobs.cancel(dpo.id);
  out.cancelled = cancelled.status;
  try { await client.fineTuning.jobs.cancel(dpo.id); } catch (e) { out.cancelAgain = e.constructor.name + ' ' + e.status; }
  try { await client.fineTuning.jobs.retrieve('ftjob-nope'); } catch (e) { out.notFound = e.constructor.name + ' ' + e.status; }
  try { await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-nope' }); } catch (e) { out.badFile = e.constructor.name + ' ' + e.status + ' ' + e.param; }
  const bad = new OpenAI({ apiKey: 'sk-wrong-key-0000', maxRetries: 0 });
  try { await bad.files.list(); } catch (e) { out.badKey = e.constructor.name + ' ' + e.status + ' ' + e.code; }
  const del = await client.files.delete(pref.id);
  out.deleted = del.deleted;
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e.stack || e); process.exit(1); });
`

func chatLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"question %d"},{"role":"assistant","content":"answer %d"}]}`+"\n", i, i)
	}
	return b.String()
}

func pairLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"input":{"messages":[{"role":"user","content":"q %d"}]},"preferred_output":[{"role":"assistant","content":"good"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}`+"\n", i)
	}
	return b.String()
}

// TestOfficialClient proves the stand-in against the official npm client:
// uploads, listing with pagination, content, a supervised job to success
// with its events, a DPO job cancelled, the documented error classes, and
// the client's own retries through a 429 with Retry-After and a 500.
func TestOfficialClient(t *testing.T) {
	dir := testenv.NPM(t, "openai", NodeClientVersion)
	s := New("sk-standin-test-key")
	defer s.Close()
	tmp := t.TempDir()
	train := filepath.Join(tmp, "train.jsonl")
	pairs := filepath.Join(tmp, "pairs.jsonl")
	os.WriteFile(train, []byte(chatLines(12)), 0o644)
	os.WriteFile(pairs, []byte(pairLines(10)), 0o644)
	s.Fault("GET", "/files/", 429, 1, "1") // an upload stream is not replayed by the client
	s.Fault("GET", "/fine_tuning/jobs/", 500, 1, "")
	out := testenv.Node(t, clientScript, []string{"OPENAI_API_KEY=" + s.Key, "OPENAI_BASE_URL=" + s.URL}, dir, train, pairs)
	var got struct {
		UploadBytes int64
		Filename    string
		RoundTrip   bool
		Listed      []string
		Created     string
		Statuses    []string
		Model       string
		Hyper       map[string]any
		Seed        int64
		Metrics     []int
		NewestFirst bool
		JobListed   bool
		Cancelled   string
		CancelAgain string
		NotFound    string
		BadFile     string
		BadKey      string
		Deleted     bool
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	st, _ := os.Stat(train)
	checks := []struct {
		what string
		ok   bool
	}{
		{"upload bytes", got.UploadBytes == st.Size()},
		{"filename", got.Filename == "train.jsonl"},
		{"content round trip", got.RoundTrip},
		{"two files listed one a page", len(got.Listed) == 2},
		{"statuses", slices.Equal(got.Statuses, []string{"validating_files", "queued", "running", "succeeded"})},
		{"model", strings.HasPrefix(got.Model, "ft:gpt-4o-mini-2024-07-18:standin:standin:")},
		{"hyperparameters", got.Hyper["n_epochs"] == 2.0 && got.Hyper["batch_size"] == 4.0 && got.Hyper["learning_rate_multiplier"] == 0.5},
		{"seed", got.Seed == 7},
		{"metrics steps", len(got.Metrics) == s.Steps},
		{"events newest first", got.NewestFirst},
		{"job listed", got.JobListed},
		{"cancel", got.Cancelled == "cancelled"},
		{"cancel again", got.CancelAgain == "BadRequestError 400"},
		{"not found", got.NotFound == "NotFoundError 404"},
		{"bad training file", got.BadFile == "BadRequestError 400 training_file"},
		{"bad key", got.BadKey == "AuthenticationError 401 invalid_api_key"},
		{"deleted", got.Deleted},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, got)
		}
	}
	reqs := strings.Join(s.Requests(), "\n")
	for _, want := range []string{" 429\nGET /v1/files/", " 500\nGET /v1/fine_tuning/jobs/"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("the client did not retry (%q):\n%s", want, reqs)
		}
	}
}
