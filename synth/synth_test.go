package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Shutdown()
	os.Exit(code)
}

// writeChunks makes a chunks file from a real subtitle file and text.
func writeChunks(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	out := &ingest.JSONOutput{Chunks: &buf}
	_, err := ingest.Run(context.Background(), []string{testenv.Corpus("subtitles/sintel/sintel_en.srt")}, ingest.Options{Chunk: ingest.ChunkOptions{Target: 40, Overlap: 0}}, out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < n {
		t.Fatalf("only %d chunks", len(lines))
	}
	p := filepath.Join(t.TempDir(), "chunks.jsonl")
	os.WriteFile(p, []byte(strings.Join(lines[:n], "")+"\n"), 0o644)
	return p
}

func testOptions(t *testing.T, host string) Options {
	p, err := persona.Load("testdata/persona.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := llm.NewOllama(host)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Model: testenv.TinyModel, Persona: p, Backend: b, PairsPerChunk: 2, Conversations: 1, Turns: 2,
		Limits: Limits{QuestionChars: 30, AnswerChars: 60}, Parallel: 4, Temperature: 0.8, Seed: 7, CacheDir: filepath.Join(t.TempDir(), "cache")}
}

func readExamples(t *testing.T, b []byte) []datasets.Example {
	t.Helper()
	var exs []datasets.Example
	for rec, err := range datasets.RawRecords(context.Background(), bytes.NewReader(b), "out") {
		if err != nil {
			t.Fatal(err)
		}
		r := rec.Decode()
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Pos, r.Err)
		}
		exs = append(exs, r.Example)
	}
	return exs
}

// Against the real server: every chunk yields schema-valid examples with
// provenance, and a second run comes entirely from the cache.
func TestSynthRealServer(t *testing.T) {
	srv := testenv.Ollama(t)
	chunks := writeChunks(t, 4)
	opt := testOptions(t, srv.URL)
	opt.Preferences = 1
	var out bytes.Buffer
	sum, err := Run(context.Background(), chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tasks != 12 || sum.TasksDone != 12 || sum.Examples != 4*2+4+4 || len(sum.Failures) != 0 {
		b, _ := json.Marshal(sum)
		t.Fatalf("summary %s", b)
	}
	exs := readExamples(t, out.Bytes())
	perChunk := map[string]int{}
	for _, ex := range exs {
		perChunk[ex.Meta.ChunkID]++
		if ex.Messages[0].Role != "system" || !strings.Contains(ex.Messages[0].Content, "Ada Whitfield") {
			t.Errorf("system message %q", ex.Messages[0].Content)
		}
		if ex.Meta.Persona != "ada-whitfield" || ex.Meta.Model != "tiny" || ex.Meta.TimeEnd == 0 || ex.Meta.Source == "" {
			t.Errorf("meta %+v", ex.Meta)
		}
		if ex.Meta.Kind == "qa" && (len(ex.Messages) != 3 || !validType(ex.Meta.QuestionType)) {
			t.Errorf("qa example %+v", ex)
		}
		if ex.Meta.Kind == "conversation" && len(ex.Messages) != 5 {
			t.Errorf("conversation has %d messages", len(ex.Messages))
		}
		if ex.Meta.Kind == "preference" && (!ex.IsPair() || len(ex.Messages) != 3 || ex.Rejected[0].Content == ex.Chosen()[0].Content ||
			utf8.RuneCountInString(ex.Rejected[0].Content) > 60 || !slices.Contains(Flaws, ex.Meta.Extra["flaw"])) {
			t.Errorf("preference pair %+v", ex)
		}
		for _, m := range ex.Messages[1:] {
			if n := utf8.RuneCountInString(m.Content); m.Content == "" || (m.Role == "user" && n > 30) || (m.Role == "assistant" && n > 60) {
				t.Errorf("message breaks the schema: %q", m.Content)
			}
		}
	}
	if len(perChunk) != 4 {
		t.Errorf("examples from %d chunks, want all 4", len(perChunk))
	}
	// Re-run: all from cache, identical output.
	var again bytes.Buffer
	sum2, err := Run(context.Background(), chunks, opt, &again)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Cached != 12 || sum2.Requests != 0 || again.String() != out.String() {
		t.Errorf("re-run: cached %d requests %d, same output %v", sum2.Cached, sum2.Requests, again.String() == out.String())
	}
}

// Preflight errors say what to do.
func TestPreflightErrors(t *testing.T) {
	srv := testenv.Ollama(t)
	opt := testOptions(t, srv.URL)
	opt.Model = "no-such-model"
	_, err := Run(context.Background(), writeChunks(t, 1), opt, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "ollama pull no-such-model") {
		t.Errorf("err %v", err)
	}
	b, _ := llm.NewOllama("http://127.0.0.1:1")
	opt.Backend = b
	_, err = Run(context.Background(), writeChunks(t, 1), opt, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach Ollama at http://127.0.0.1:1") || !strings.Contains(err.Error(), "ollama serve") {
		t.Errorf("err %v", err)
	}
}

// The judge scores every example (scores in meta, histogram in the
// summary); --min-score keeps only those at or above it.
func TestCurateRealServer(t *testing.T) {
	srv := testenv.Ollama(t)
	chunks := writeChunks(t, 3)
	opt := testOptions(t, srv.URL)
	opt.Conversations = 0
	opt.Preferences = 1
	var gen bytes.Buffer
	if _, err := Run(context.Background(), chunks, opt, &gen); err != nil {
		t.Fatal(err)
	}
	exPath := filepath.Join(t.TempDir(), "ex.jsonl")
	os.WriteFile(exPath, gen.Bytes(), 0o644)
	copt := CurateOptions{Model: testenv.TinyModel, Backend: opt.Backend, Persona: opt.Persona, Chunks: []string{chunks}, Parallel: 4, CacheDir: opt.CacheDir}
	var out bytes.Buffer
	sum, err := Curate(context.Background(), exPath, copt, &out)
	if err != nil {
		t.Fatal(err)
	}
	// Six Q&A examples scored, three preference pairs judged (random
	// weights pick either reply; those that prefer the rejected one are
	// left out).
	if sum.Examples != 9 || sum.Scored != 6 || sum.Pairs != 3 || sum.Kept != 6+3-sum.PairsDisagreed || len(sum.Failures) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	total := 0
	for _, c := range Criteria {
		h := sum.Histogram[c]
		for _, n := range h {
			total += n
		}
	}
	if total != 6*len(Criteria) {
		t.Errorf("histogram counts %d", total)
	}
	var exs []datasets.Example
	for _, ex := range readExamples(t, out.Bytes()) {
		if ex.IsPair() {
			if ex.Meta.Scores["judge_prefers_chosen"] != 1 || ex.Meta.Extra["judge_reason"] == "" {
				t.Errorf("kept pair %+v", ex.Meta)
			}
			continue
		}
		exs = append(exs, ex)
	}
	for _, ex := range exs {
		o := ex.Meta.Scores["overall"]
		if o < 1 || o > 5 || ex.Meta.Scores["grounding"] < 1 {
			t.Errorf("scores %v", ex.Meta.Scores)
		}
	}
	// Filter: a threshold between the lowest and highest overall score.
	lo, hi := 6.0, 0.0
	for _, ex := range exs {
		lo, hi = min(lo, ex.Meta.Scores["overall"]), max(hi, ex.Meta.Scores["overall"])
	}
	copt.MinScore = hi
	var filtered bytes.Buffer
	sum2, err := Curate(context.Background(), exPath, copt, &filtered)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Cached != 9 || sum2.Requests != 0 {
		t.Errorf("second curate: cached %d requests %d", sum2.Cached, sum2.Requests)
	}
	for _, ex := range readExamples(t, filtered.Bytes()) {
		if !ex.IsPair() && ex.Meta.Scores["overall"] < hi {
			t.Errorf("kept an example below --min-score: %v", ex.Meta.Scores)
		}
	}
	if sum2.Kept+sum2.Dropped+sum2.PairsDisagreed != 9 || (lo < hi && sum2.Dropped == 0) {
		t.Errorf("kept %d dropped %d (scores %v..%v)", sum2.Kept, sum2.Dropped, lo, hi)
	}
}

// Two servers (the real one, and a proxy in front of it that dies
// mid-run): the proxy's requests fail over to the other, and every task's
// examples come out exactly once, with no task failed.
func TestSynthFailoverRealServer(t *testing.T) {
	srv := testenv.Ollama(t)
	target, _ := url.Parse(srv.URL)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer proxy.Close()
	direct, _ := llm.NewOllama(srv.URL)
	viaProxy, _ := llm.NewOllama(proxy.URL)
	pool := llm.NewPool([]llm.PoolServer{{Name: "direct", Backend: direct}, {Name: "proxy", Backend: viaProxy}}, 1)
	defer pool.Close()
	chunks := writeChunks(t, 5)
	opt := testOptions(t, srv.URL)
	opt.Backend, opt.Conversations, opt.Parallel = pool, 0, 0
	var once sync.Once
	opt.Progress = func(s *Summary) {
		if s.TasksDone >= 1 {
			once.Do(func() {
				proxy.CloseClientConnections()
				proxy.Listener.Close()
			})
		}
	}
	var out bytes.Buffer
	sum, err := Run(context.Background(), chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, ex := range readExamples(t, out.Bytes()) {
		ids[ex.ID]++
	}
	if sum.Examples != 5*2 || len(ids) != 5*2 || len(sum.Failures) != 0 {
		t.Errorf("%d examples, %d distinct, failures %v", sum.Examples, len(ids), sum.Failures)
	}
	var down string
	for _, s := range sum.Servers {
		if s.Name == "proxy" {
			down = s.Down
		}
	}
	if down == "" {
		t.Errorf("the dead server is not reported down: %+v", sum.Servers)
	}
}
