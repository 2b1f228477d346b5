package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/standin/openai"
	"github.com/tuneline/tuneline/internal/testenv"
)

// engineReplies keeps the real server's replies by request body, for all
// the tests of the package: they ask the same requests, and the machine's
// two cores answer each once.
var engineReplies sync.Map

type engineReply struct {
	status int
	body   []byte
}

// batchAPIFixture is a Batch API stand-in whose engine is a real Ollama's
// OpenAI-compatible endpoint, and two chunks to synthesize from.
type batchAPIFixture struct {
	s      *openai.Server
	ollama string
	chunks string
	dir    string
	// fail, when set, may answer a request instead of the engine.
	mu   sync.Mutex
	fail func(n int, body []byte) (int, []byte, bool)
	n    int
}

func newBatchAPIFixture(t *testing.T) *batchAPIFixture {
	srv := testenv.Ollama(t)
	f := &batchAPIFixture{s: openai.New("sk-batch-test-key-0123"), ollama: srv.URL, dir: t.TempDir()}
	t.Cleanup(f.s.Close)
	f.s.BatchStep = 2
	f.s.Engine = func(ctx context.Context, url string, body []byte) (int, []byte) {
		f.mu.Lock()
		f.n++
		n, fail := f.n, f.fail
		f.mu.Unlock()
		if fail != nil {
			if st, b, ok := fail(n, body); ok {
				return st, b
			}
		}
		if r, ok := engineReplies.Load(string(body)); ok {
			return r.(engineReply).status, r.(engineReply).body
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.ollama+url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return http.StatusBadGateway, []byte(`{"error":{"message":"engine down"}}`)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			engineReplies.Store(string(body), engineReply{resp.StatusCode, b})
		}
		return resp.StatusCode, b
	}
	all := filepath.Join(f.dir, "all.jsonl")
	if code, _, errOut := run(t, "-q", "ingest", "--chunk-tokens", "40", "--overlap", "0", "--out", all, testenv.Corpus("subtitles/sintel/sintel_en.srt")); code != ExitOK {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	b, _ := os.ReadFile(all)
	lines := strings.SplitAfter(string(b), "\n")
	f.chunks = filepath.Join(f.dir, "chunks.jsonl")
	os.WriteFile(f.chunks, []byte(strings.Join(lines[:2], "")), 0o644)
	t.Setenv("OPENAI_API_KEY", f.s.Key)
	return f
}

// synth runs synth through --batch with its own cache and output.
func (f *batchAPIFixture) synth(t *testing.T, name string) (int, string) {
	t.Helper()
	code, _, errOut := run(t, "synth", "--api", "openai", "--base-url", f.s.URL, "--batch", "--batch-poll", "5ms", "--model", testenv.TinyModel,
		"--persona", "../../synth/testdata/persona.yaml", "--pairs", "1", "--max-question-chars", "30", "--max-answer-chars", "60",
		"--cache", filepath.Join(f.dir, name+"-cache"), "--out", filepath.Join(f.dir, name+".jsonl"), f.chunks)
	return code, errOut
}

func (f *batchAPIFixture) count(what string) int {
	n := 0
	for _, r := range f.s.Requests() {
		if strings.HasPrefix(r, what+" ") {
			n++
		}
	}
	return n
}

func exampleIDs(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	for rec, err := range datasets.ReadFile(context.Background(), path) {
		if err != nil || rec.Err != nil {
			t.Fatalf("%s: %v %v", path, err, rec.Err)
		}
		ex := rec.Example
		if ex.Meta.ChunkID == "" || ex.Meta.Source == "" || ex.Meta.Model != testenv.TinyModel {
			t.Errorf("%s: example %s meta %+v", path, ex.ID, ex.Meta)
		}
		ids = append(ids, ex.ID)
	}
	return ids
}

// synth --batch uploads the requests, creates a batch, follows it with
// its request counts, reads its output, and gives the examples a live run
// through the same engine gives, ids and provenance; the key is never
// printed nor kept.
func TestSynthBatchAPI(t *testing.T) {
	f := newBatchAPIFixture(t)
	code, _, errOut := run(t, "-q", "synth", "--api", "openai", "--base-url", f.ollama+"/v1", "--model", testenv.TinyModel,
		"--persona", "../../synth/testdata/persona.yaml", "--pairs", "1", "--max-question-chars", "30", "--max-answer-chars", "60",
		"--cache", filepath.Join(f.dir, "live-cache"), "--out", filepath.Join(f.dir, "live.jsonl"), f.chunks)
	if code != ExitOK {
		t.Fatalf("live: exit %d\n%s", code, errOut)
	}
	code, errOut = f.synth(t, "batch")
	if code != ExitOK {
		t.Fatalf("batch: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"batch round 1: uploading ", "in_progress, 2 of ", "completed, ", " requests done, 0 failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	live, batch := exampleIDs(t, filepath.Join(f.dir, "live.jsonl")), exampleIDs(t, filepath.Join(f.dir, "batch.jsonl"))
	if len(batch) != 2 || !slices.Equal(live, batch) {
		t.Errorf("batch examples %v, live %v", batch, live)
	}
	if f.count("POST /v1/files") < 1 || f.count("POST /v1/batches") != f.count("POST /v1/files") {
		t.Errorf("requests:\n%s", strings.Join(f.s.Requests(), "\n"))
	}
	leaked := strings.Contains(errOut, f.s.Key)
	filepath.WalkDir(filepath.Join(f.dir, "batch-cache"), func(p string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); err == nil && !d.IsDir() && bytes.Contains(b, []byte(f.s.Key)) {
			t.Errorf("%s holds the key", p)
		}
		return nil
	})
	if leaked {
		t.Error("the key is in the output")
	}
	if left, _ := filepath.Glob(filepath.Join(f.dir, "batch-cache", "batch", "submitted", "*.json")); len(left) != 0 {
		t.Errorf("batch records left after the results were read: %v", left)
	}
}

// A run that stops while its batch runs (here: the service refuses to
// show it) leaves the batch's id; the same command again follows that
// batch: no second upload, no second batch.
func TestSynthBatchAPIResume(t *testing.T) {
	f := newBatchAPIFixture(t)
	f.s.Fault("GET", "/batches/", http.StatusBadRequest, 1, "")
	code, errOut := f.synth(t, "resume")
	if code == ExitOK || !strings.Contains(errOut, "400") {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(f.dir, "resume-cache", "batch", "submitted", "*.json")); len(left) != 1 {
		t.Fatalf("no record of the batch: %v", left)
	}
	code, errOut = f.synth(t, "resume")
	if code != ExitOK || !strings.Contains(errOut, "submitted before as batch batch-") {
		t.Fatalf("second run: exit %d\n%s", code, errOut)
	}
	if files, batches := f.count("POST /v1/files"), f.count("POST /v1/batches"); files != 1 || batches != 1 {
		t.Errorf("%d uploads, %d batches: the second run did not follow the first batch\n%s", files, batches, strings.Join(f.s.Requests(), "\n"))
	}
	if ids := exampleIDs(t, filepath.Join(f.dir, "resume.jsonl")); len(ids) != 2 {
		t.Errorf("%d examples after the resume", len(ids))
	}
}

// A batch that expires keeps what it completed: the run writes those
// examples and fails naming what is left; the same command submits only
// the rest and finishes.
func TestSynthBatchAPIExpired(t *testing.T) {
	f := newBatchAPIFixture(t)
	f.s.ExpireAfter = 1
	code, errOut := f.synth(t, "exp")
	if code != ExitFailure || !strings.Contains(errOut, "expired with 1 of 2 requests answered") || !strings.Contains(errOut, "submit the 1 left") {
		t.Fatalf("expired run: exit %d\n%s", code, errOut)
	}
	if ids := exampleIDs(t, filepath.Join(f.dir, "exp.jsonl")); len(ids) != 1 {
		t.Errorf("%d examples written of the expired batch, want its 1", len(ids))
	}
	f.s.ExpireAfter = -1
	code, errOut = f.synth(t, "exp")
	if code != ExitOK || !strings.Contains(errOut, "uploading 1 requests") {
		t.Fatalf("re-run: exit %d\n%s", code, errOut)
	}
	if ids := exampleIDs(t, filepath.Join(f.dir, "exp.jsonl")); len(ids) != 2 {
		t.Errorf("%d examples after the re-run", len(ids))
	}
}

// Error-file lines: a 500 is asked again in the next round (and then
// answered); a 400 is that task's failure, reported as a live one is.
func TestSynthBatchAPIErrorLines(t *testing.T) {
	f := newBatchAPIFixture(t)
	f.fail = func(n int, body []byte) (int, []byte, bool) {
		switch n {
		case 1:
			return http.StatusInternalServerError, []byte(`{"error":{"message":"The server had an error processing your request.","type":"server_error"}}`), true
		case 2:
			return http.StatusBadRequest, []byte(`{"error":{"message":"Invalid 'max_tokens': too large.","type":"invalid_request_error","param":"max_tokens","code":null}}`), true
		}
		return 0, nil, false
	}
	code, errOut := f.synth(t, "errs")
	if code != ExitFailure || !strings.Contains(errOut, "HTTP 400") || !strings.Contains(errOut, "too large") || !strings.Contains(errOut, "batch round 2: uploading 1 requests") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if ids := exampleIDs(t, filepath.Join(f.dir, "errs.jsonl")); len(ids) != 1 {
		t.Errorf("%d examples, want 1 (one task failed)", len(ids))
	}
}

// curate --batch judges through the Batch API as synth does, and its
// examples come out scored; standard input is refused (it is read once a
// round).
func TestCurateBatchAPI(t *testing.T) {
	f := newBatchAPIFixture(t)
	if code, errOut := f.synth(t, "cur"); code != ExitOK {
		t.Fatalf("synth: exit %d\n%s", code, errOut)
	}
	curate := func(examples string) (int, string) {
		code, _, errOut := run(t, "curate", "--api", "openai", "--base-url", f.s.URL, "--batch", "--batch-poll", "5ms", "--model", testenv.TinyModel,
			"--min-score", "0", "--chunks", f.chunks, "--cache", filepath.Join(f.dir, "judge-cache"), "--out", filepath.Join(f.dir, "curated.jsonl"), examples)
		return code, errOut
	}
	if code, errOut := curate("-"); code != ExitUsage || !strings.Contains(errOut, "not standard input") {
		t.Errorf("stdin: exit %d\n%s", code, errOut)
	}
	batches := f.count("POST /v1/batches")
	code, errOut := curate(filepath.Join(f.dir, "cur.jsonl"))
	if code != ExitOK || !strings.Contains(errOut, "batch round 1: uploading 2 requests") || f.count("POST /v1/batches") <= batches {
		t.Fatalf("curate: exit %d\n%s", code, errOut)
	}
	n := 0
	for rec, err := range datasets.ReadFile(context.Background(), filepath.Join(f.dir, "curated.jsonl")) {
		n++
		if err != nil || rec.Err != nil || rec.Example.Meta.Scores["overall"] == 0 {
			t.Errorf("curated example: %v %v %+v", err, rec.Err, rec.Example.Meta)
		}
	}
	if n != 2 {
		t.Errorf("%d curated examples, want the 2 (--min-score 0 keeps all)", n)
	}
}

// --batch-cancel cancels the batch an interrupted run left at the service
// (no second upload), reads what it completed and stops with exit 0
// saying what is left; without it, the same command then submits the rest.
// With nothing kept as submitted it is a usage error, and it needs --batch.
func TestSynthBatchAPICancel(t *testing.T) {
	f := newBatchAPIFixture(t)
	cancel := func(name string, extra ...string) (int, string) {
		args := append([]string{"synth", "--api", "openai", "--base-url", f.s.URL, "--batch", "--batch-cancel", "--batch-poll", "5ms", "--model", testenv.TinyModel,
			"--persona", "../../synth/testdata/persona.yaml", "--pairs", "1", "--max-question-chars", "30", "--max-answer-chars", "60",
			"--cache", filepath.Join(f.dir, name+"-cache"), "--out", filepath.Join(f.dir, name+".jsonl")}, extra...)
		code, _, errOut := run(t, append(args, f.chunks)...)
		return code, errOut
	}
	if code, errOut := cancel("none"); code != ExitUsage || !strings.Contains(errOut, "no batch of this command's 2 requests") {
		t.Fatalf("nothing submitted: exit %d\n%s", code, errOut)
	}
	f.s.Fault("GET", "/batches/", http.StatusBadRequest, 1, "")
	if code, errOut := f.synth(t, "c"); code == ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	code, errOut := cancel("c")
	if code != ExitOK || !strings.Contains(errOut, "cancelling batch batch-") || !strings.Contains(errOut, "is cancelled (--batch-cancel) with 0 of 2 requests answered") {
		t.Fatalf("cancel: exit %d\n%s", code, errOut)
	}
	cancels := 0
	for _, r := range f.s.Requests() {
		if strings.HasPrefix(r, "POST /v1/batches/") && strings.Contains(r, "/cancel ") {
			cancels++
		}
	}
	if cancels != 1 || f.count("POST /v1/files") != 1 {
		t.Errorf("%d cancel requests, %d uploads\n%s", cancels, f.count("POST /v1/files"), strings.Join(f.s.Requests(), "\n"))
	}
	if left, _ := filepath.Glob(filepath.Join(f.dir, "c-cache", "batch", "submitted", "*.json")); len(left) != 0 {
		t.Errorf("the cancelled batch is still kept: %v", left)
	}
	code, errOut = f.synth(t, "c")
	if code != ExitOK || !strings.Contains(errOut, "uploading 2 requests") {
		t.Fatalf("after the cancel: exit %d\n%s", code, errOut)
	}
	if ids := exampleIDs(t, filepath.Join(f.dir, "c.jsonl")); len(ids) != 2 {
		t.Errorf("%d examples after the cancel and a new run", len(ids))
	}
	code, _, errOut = run(t, "synth", "--api", "openai", "--base-url", f.s.URL, "--batch-cancel", "--model", testenv.TinyModel, "--persona", "../../synth/testdata/persona.yaml", f.chunks)
	if code != ExitUsage || !strings.Contains(errOut, "goes with --batch") {
		t.Errorf("--batch-cancel alone: exit %d\n%s", code, errOut)
	}
}
