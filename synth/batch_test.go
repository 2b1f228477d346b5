package synth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
)

// mangler spoils chosen replies the way a model may: cut JSON, a reply
// stopped at the token limit, JSON that breaks the schema. The live proxy
// and the batch runner apply the same rule to the same request bodies, so
// that both runs re-ask the same requests.
type mangler map[string]string // custom_id -> how

func bodyID(body []byte) string {
	h := sha256.Sum256(body)
	return "tl-" + hex.EncodeToString(h[:16])
}

// apply changes a chat completion's reply when the request is one to
// spoil.
func (m mangler) apply(id string, completion []byte) []byte {
	how := m[id]
	if how == "" {
		return completion
	}
	var cc map[string]any
	if json.Unmarshal(completion, &cc) != nil {
		return completion
	}
	ch := cc["choices"].([]any)[0].(map[string]any)
	msg := ch["message"].(map[string]any)
	switch how {
	case "invalid-json":
		s := msg["content"].(string)
		msg["content"] = s[:len(s)/2]
	case "cut":
		ch["finish_reason"] = "length"
	case "schema":
		msg["content"] = `{"unexpected": true}`
	}
	b, _ := json.Marshal(cc)
	return b
}

// post sends a body to the real server's OpenAI-compatible endpoint.
func post(base string, body []byte) (int, []byte, error) {
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// runBatch plays the batch engine: it posts every request line's body to
// the real server and writes the output lines in reverse order (engines do
// not keep the input order). fault, when set, may replace a line (return
// the line to write, or nil to drop it).
func runBatch(t *testing.T, base, in, out string, m mangler, fault func(i int, id string, line []byte) []byte) int {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type reqLine struct {
		CustomID string          `json:"custom_id"`
		Method   string          `json:"method"`
		URL      string          `json:"url"`
		Body     json.RawMessage `json:"body"`
	}
	var reqs []reqLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var req reqLine
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatalf("%s:%d: %v", in, len(reqs)+1, err)
		}
		if req.Method != "POST" || req.URL != "/v1/chat/completions" || bodyID(req.Body) != req.CustomID {
			t.Fatalf("%s:%d: request line %s %s, custom_id %s is not the body's hash", in, len(reqs)+1, req.Method, req.URL, req.CustomID)
		}
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// Four at a time, as the server's slots allow.
	results := make([][]byte, len(reqs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for n, req := range reqs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			status, body, err := post(base, req.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = m.apply(req.CustomID, body)
			results[n], _ = json.Marshal(map[string]any{"id": fmt.Sprintf("batch_req_%d", n), "custom_id": req.CustomID,
				"response": map[string]any{"status_code": status, "request_id": fmt.Sprintf("req_%d", n), "body": json.RawMessage(body)}, "error": nil})
		}()
	}
	wg.Wait()
	var lines [][]byte
	for n, line := range results {
		if fault != nil {
			line = fault(n, reqs[n].CustomID, line)
		}
		if line != nil {
			lines = append(lines, line)
		}
	}
	n := len(reqs)
	slices.Reverse(lines)
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch run — requests file, a real server's /v1 as the engine, results
// file, re-ask rounds until nothing is left — gives the examples a live
// run gives through the same endpoint: the same ids in the same order,
// with provenance. The first round's results have an error line, a missing
// line, another run's line and a line that is no result.
func TestSynthBatchRoundTripRealServer(t *testing.T) {
	srv := testenv.Ollama(t)
	chunks := writeChunks(t, 3)
	opt := testOptions(t, srv.URL)
	opt.PairsPerChunk, opt.Conversations = 1, 0

	// Spoil the first reply of each task, the same in both runs.
	planned, err := Plan(chunks, opt, llm.ModelInfo{ContextLength: llm.OpenAIContextLength})
	if err != nil {
		t.Fatal(err)
	}
	var firsts []string
	for _, p := range planned {
		firsts = append(firsts, llm.BatchID(p.Request))
	}
	slices.Sort(firsts)
	m := mangler{}
	for i, how := range []string{"invalid-json", "cut", "schema"} {
		m[firsts[i]] = how
	}

	// Live, through a proxy that spoils the same replies.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" {
			req, _ := http.NewRequest(r.Method, srv.URL+r.URL.Path, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		status, out, err := post(srv.URL, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(m.apply(bodyID(body), out))
	}))
	defer proxy.Close()
	live, err := llm.NewOpenAI(proxy.URL+"/v1", "")
	if err != nil {
		t.Fatal(err)
	}
	lopt := opt
	lopt.Backend, lopt.CacheDir = live, filepath.Join(t.TempDir(), "live-cache")
	var liveOut bytes.Buffer
	lsum, err := Run(context.Background(), chunks, lopt, &liveOut)
	if err != nil {
		t.Fatal(err)
	}
	if lsum.TasksDone != 3 || lsum.Reasked < 3 {
		t.Fatalf("live run: %+v", lsum)
	}

	// Batch rounds.
	dir := t.TempDir()
	bopt := opt
	bopt.CacheDir = filepath.Join(dir, "cache")
	var results []string
	var out bytes.Buffer
	var stats []llm.BatchStats
	for round := 1; ; round++ {
		if round > 8 {
			t.Fatalf("not done after %d rounds", round-1)
		}
		b := llm.NewBatch(filepath.Join(bopt.CacheDir, "batch"))
		for _, r := range results {
			if err := b.ReadResults(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		reqs := filepath.Join(dir, fmt.Sprintf("requests-%d.jsonl", round))
		if err := b.WriteTo(reqs); err != nil {
			t.Fatal(err)
		}
		bopt.Backend = b
		out.Reset()
		sum, err := Run(context.Background(), chunks, bopt, &out)
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.Commit()
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, st)
		t.Logf("round %d: %d tasks done, %d deferred, %d re-asked; batch %+v", round, sum.TasksDone, sum.Deferred, sum.Reasked, st)
		if len(sum.Failures) != 0 {
			t.Fatalf("round %d failures %v", round, sum.Failed)
		}
		if sum.Deferred == 0 {
			if st.Written != 0 {
				t.Errorf("nothing deferred but %d requests written", st.Written)
			}
			break
		}
		if st.Written == 0 || sum.TasksDone+sum.Deferred != 3 {
			t.Fatalf("round %d: %d deferred, %d done, %d written", round, sum.Deferred, sum.TasksDone, st.Written)
		}
		res := filepath.Join(dir, fmt.Sprintf("results-%d.jsonl", round))
		var fault func(int, string, []byte) []byte
		if round == 1 {
			fault = func(i int, id string, line []byte) []byte {
				switch i {
				case 0: // missing
					return nil
				case 1: // the engine failed it
					return []byte(`{"id":"batch_req_x","custom_id":"` + id + `","response":{"status_code":500,"request_id":"r","body":{"error":{"message":"engine overloaded"}}},"error":null}`)
				}
				return line
			}
		}
		runBatch(t, srv.URL, reqs, res, m, fault)
		if round == 1 {
			f, _ := os.OpenFile(res, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"id":"x","custom_id":"tl-00000000000000000000000000000000","response":{"status_code":200,"body":{"choices":[{"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}]}},"error":null}` + "\n")
			f.WriteString("not a result line\n")
			f.Close()
		}
		results = []string{res}
	}
	if len(stats) < 3 {
		t.Errorf("done in %d rounds; the spoiled replies need a re-ask round", len(stats))
	}
	if st := stats[1]; st.Missing != 1 || st.Requeued != 1 || st.ErrorLines != 1 || st.Unknown != 1 || st.BadLines != 1 ||
		!strings.Contains(st.FirstBad, "results-1.jsonl:") {
		t.Errorf("round 2 stats %+v: want one missing, one re-queued after the error line, one unknown, one bad line", st)
	}

	exs, lexs := readExamples(t, out.Bytes()), readExamples(t, liveOut.Bytes())
	ids := func(exs []datasets.Example) []string {
		var s []string
		for _, ex := range exs {
			s = append(s, ex.ID)
		}
		return s
	}
	if !slices.Equal(ids(exs), ids(lexs)) || len(exs) != 3 {
		t.Errorf("batch examples %v, live %v", ids(exs), ids(lexs))
	}
	seen := map[string]bool{}
	for _, ex := range exs {
		if seen[ex.ID] || ex.Meta.ChunkID == "" || ex.Meta.Source == "" || ex.Meta.Model != testenv.TinyModel {
			t.Errorf("example %s: duplicate or meta %+v", ex.ID, ex.Meta)
		}
		seen[ex.ID] = true
	}

	// Mixing through the cache: a live run after the batch asks nothing.
	lopt.CacheDir = bopt.CacheDir
	var again bytes.Buffer
	sum, err := Run(context.Background(), chunks, lopt, &again)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 0 || sum.Cached != 3 || again.String() != out.String() {
		t.Errorf("live after batch: %d requests, %d cached, same output %v", sum.Requests, sum.Cached, again.String() == out.String())
	}
}
