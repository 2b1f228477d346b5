package llm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func completion(content, finish string) string {
	return `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":` + quote(content) + `},"finish_reason":"` + finish + `"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}`
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func resultLine(id string, status int, body string) string {
	return `{"id":"batch_req_1","custom_id":"` + id + `","response":{"status_code":` + itoa(status) + `,"request_id":"r","body":` + body + `},"error":null}`
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// Every kind of result line, as the Batch API and vLLM's run_batch write
// them: a reply, a reply cut at the token limit, a retryable error (5xx,
// an error object without a response: expired, cancelled), a 4xx error,
// an unknown id and lines that are no result.
func TestBatchResults(t *testing.T) {
	dir := t.TempDir()
	reqs := map[string]Request{}
	for _, name := range []string{"ok", "cut", "5xx", "expired", "4xx", "missing"} {
		reqs[name] = Request{Model: "m", Messages: []Message{{Role: "user", Content: name}}, Schema: []byte(`{"type":"object"}`), Seed: 1, MaxTokens: 10}
	}
	id := func(n string) string { return BatchID(reqs[n]) }
	results := strings.Join([]string{
		resultLine(id("ok"), 200, completion(`{"a":1}`, "stop")),
		resultLine(id("cut"), 200, completion(`{"a":`, "length")),
		resultLine(id("5xx"), 500, `{"error":{"message":"overloaded"}}`),
		`{"id":"b","custom_id":"` + id("expired") + `","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}`,
		resultLine(id("4xx"), 400, `{"error":{"message":"bad schema"}}`),
		resultLine("tl-ffffffffffffffffffffffffffffffff", 200, completion("{}", "stop")),
		`not json`,
		`{"custom_id":""}`,
		"",
	}, "\n")
	path := filepath.Join(dir, "results.jsonl")
	os.WriteFile(path, []byte(results), 0o644)
	b := NewBatch(filepath.Join(dir, "store"))
	if err := b.ReadResults(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteTo(filepath.Join(dir, "next.jsonl")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if rep, err := b.Chat(ctx, reqs["ok"]); err != nil || rep.Content != `{"a":1}` || rep.Cut || rep.TokensIn != 10 || rep.TokensOut != 5 {
		t.Errorf("ok: %+v, %v", rep, err)
	}
	if rep, err := b.Chat(ctx, reqs["cut"]); err != nil || !rep.Cut {
		t.Errorf("cut: %+v, %v", rep, err)
	}
	for _, n := range []string{"5xx", "expired", "missing"} {
		if _, err := b.Chat(ctx, reqs[n]); !errors.Is(err, ErrDeferred) {
			t.Errorf("%s: %v, want deferred", n, err)
		}
	}
	if _, err := b.Chat(ctx, reqs["4xx"]); err == nil || errors.Is(err, ErrDeferred) || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("4xx: %v, want the request's failure", err)
	}
	st, err := b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.ResultLines != 6 || st.Answered != 2 || st.ErrorLines != 3 || st.Requeued != 2 || st.Written != 3 || st.Unknown != 1 || st.BadLines != 2 ||
		!strings.HasPrefix(st.FirstBad, path+":7: ") {
		t.Errorf("stats %+v", st)
	}
	next, _ := os.ReadFile(filepath.Join(dir, "next.jsonl"))
	for _, n := range []string{"5xx", "expired", "missing"} {
		if !strings.Contains(string(next), `"custom_id":"`+id(n)+`"`) {
			t.Errorf("%s not in the next batch file", n)
		}
	}
	// The next round: the missing request was written before and still
	// has no reply; the replies read before are kept.
	b2 := NewBatch(filepath.Join(dir, "store"))
	b2.WriteTo(filepath.Join(dir, "next2.jsonl"))
	if _, err := b2.Chat(ctx, reqs["missing"]); !errors.Is(err, ErrDeferred) {
		t.Errorf("missing again: %v", err)
	}
	if rep, err := b2.Chat(ctx, reqs["ok"]); err != nil || rep.Content != `{"a":1}` {
		t.Errorf("kept reply: %+v, %v", rep, err)
	}
	if st, _ := b2.Commit(); st.Missing != 1 || st.Written != 1 {
		t.Errorf("second round %+v", st)
	}
}

// A line over the limit is skipped, and the lines after it are read.
func TestBatchResultsLongLine(t *testing.T) {
	b := NewBatch(t.TempDir())
	r := Request{Model: "m", Messages: []Message{{Role: "user", Content: "x"}}}
	long := strings.Repeat("x", MaxBatchLine+10)
	in := long + "\n" + resultLine(BatchID(r), 200, completion("{}", "stop")) + "\n"
	if err := b.readResults(context.Background(), strings.NewReader(in), "r"); err != nil {
		t.Fatal(err)
	}
	if b.stats.BadLines != 1 || b.stats.ResultLines != 1 || !strings.Contains(b.stats.FirstBad, "r:1: line longer") {
		t.Errorf("stats %+v", b.stats)
	}
}

func FuzzBatchResults(f *testing.F) {
	f.Add([]byte(resultLine("tl-00000000000000000000000000000000", 200, completion("{}", "stop"))))
	f.Add([]byte(`{"custom_id":"x","response":null,"error":{"code":"c","message":"m"}}` + "\n\n{"))
	f.Add([]byte(resultLine("../../x", 200, `{"choices":[]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBatch(filepath.Join(t.TempDir(), "store"))
		if err := b.readResults(context.Background(), strings.NewReader(string(data)), "fuzz"); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(filepath.Dir(b.Store.Dir))
		if len(entries) > 1 {
			t.Errorf("wrote beside the store: %v", entries)
		}
		if b.stats.ResultLines+b.stats.BadLines > strings.Count(string(data), "\n")+1 {
			t.Errorf("more results than lines: %+v", b.stats)
		}
	})
}
