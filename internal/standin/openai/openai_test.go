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
  const bin = await client.files.create({ file: fs.createReadStream(process.argv[5]), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: bin.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'standin' } });
  const bstat = [batch.status];
  const counts = [];
  let bb = batch;
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(bb.status)) {
    bb = await client.batches.retrieve(batch.id);
    if (bstat[bstat.length - 1] !== bb.status) bstat.push(bb.status);
    if (bb.status === 'in_progress') counts.push(bb.request_counts.completed + bb.request_counts.failed);
  }
  out.batchStatuses = bstat;
  out.batchCounts = counts;
  out.requestCounts = bb.request_counts;
  const lines = async (id) => (await (await client.files.content(id)).text()).trim().split('\n').map(l => JSON.parse(l));
  const output = await lines(bb.output_file_id);
  out.outputIDs = output.map(l => l.custom_id).sort();
  out.outputReply = output.find(l => l.custom_id === 'req-1').response.body.choices[0].message.content;
  out.outputStatus = output[0].response.status_code;
  const errLines = await lines(bb.error_file_id);
  out.errorLine = errLines.map(l => l.custom_id + ' ' + l.response.status_code + ' ' + l.response.body.error.code);
  const bdup = await client.files.create({ file: fs.createReadStream(process.argv[6]), purpose: 'batch' });
  let vb = await client.batches.create({ input_file_id: bdup.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  while (vb.status === 'validating') vb = await client.batches.retrieve(vb.id);
  out.invalid = vb.status + ' ' + vb.errors.data[0].code + ' line ' + vb.errors.data[0].line;
  const second = await client.batches.create({ input_file_id: bin.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  await client.batches.retrieve(second.id); // validating -> in_progress
  const c = await client.batches.cancel(second.id);
  out.batchCancel = [c.status, (await client.batches.retrieve(second.id)).status];
  try { await client.batches.cancel(second.id); } catch (e) { out.batchCancelAgain = e.constructor.name + ' ' + e.status; }
  try { await client.batches.create({ input_file_id: pref.id, endpoint: '/v1/chat/completions', completion_window: '24h' }); } catch (e) { out.batchWrongPurpose = e.constructor.name + ' ' + e.status + ' ' + e.param; }
  try { await client.batches.retrieve('batch_nope'); } catch (e) { out.batchNotFound = e.constructor.name + ' ' + e.status; }
  const bl = [];
  for await (const x of client.batches.list({ limit: 2 })) bl.push(x.id);
  out.batchesListed = bl.length;
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

func batchLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"custom_id":"req-%d","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"question %d"}]}}`+"\n", i, i)
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
	requests := filepath.Join(tmp, "requests.jsonl")
	os.WriteFile(requests, []byte(batchLines(5)+`{"custom_id":"req-empty","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}`+"\n"), 0o644)
	dup := filepath.Join(tmp, "dup.jsonl")
	os.WriteFile(dup, []byte(batchLines(2)+batchLines(1)), 0o644)
	s.Fault("GET", "/batches/", 500, 1, "")
	out := testenv.Node(t, clientScript, []string{"OPENAI_API_KEY=" + s.Key, "OPENAI_BASE_URL=" + s.URL}, dir, train, pairs, requests, dup)
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

		BatchStatuses     []string
		BatchCounts       []int
		RequestCounts     map[string]int
		OutputIDs         []string
		OutputReply       string
		OutputStatus      int
		ErrorLine         []string
		Invalid           string
		BatchCancel       []string
		BatchCancelAgain  string
		BatchWrongPurpose string
		BatchNotFound     string
		BatchesListed     int
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
		{"batch statuses", slices.Equal(got.BatchStatuses, []string{"validating", "in_progress", "finalizing", "completed"})},
		{"request counts rise", slices.IsSorted(got.BatchCounts) && len(got.BatchCounts) >= 3 && got.BatchCounts[len(got.BatchCounts)-1] == 6},
		{"request counts", got.RequestCounts["total"] == 6 && got.RequestCounts["completed"] == 5 && got.RequestCounts["failed"] == 1},
		{"output lines", slices.Equal(got.OutputIDs, []string{"req-0", "req-1", "req-2", "req-3", "req-4"}) && got.OutputStatus == 200},
		{"output reply", got.OutputReply == "echo: question 1"},
		{"error line", slices.Equal(got.ErrorLine, []string{"req-empty 400 empty_array"})},
		{"invalid input", got.Invalid == "failed duplicate_custom_id line 3"},
		{"batch cancel", slices.Equal(got.BatchCancel, []string{"cancelling", "cancelled"})},
		{"batch cancel again", got.BatchCancelAgain == "ConflictError 409"},
		{"batch wrong purpose", got.BatchWrongPurpose == "BadRequestError 400 input_file_id"},
		{"batch not found", got.BatchNotFound == "NotFoundError 404"},
		{"batches listed", got.BatchesListed == 3},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, got)
		}
	}
	reqs := strings.Join(s.Requests(), "\n")
	for _, want := range []string{" 429\nGET /v1/files/", " 500\nGET /v1/fine_tuning/jobs/", " 500\nGET /v1/batches/"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("the client did not retry (%q):\n%s", want, reqs)
		}
	}
}
