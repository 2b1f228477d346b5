package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

// poolBench runs the modes that measure llm.Pool through tuneline's synth
// runner on real Ollama servers:
//
//	auto     --parallel auto against fixed levels on one server
//	servers  two servers (each one generation thread) against one
//	kill     two servers, one killed mid-run: every example exactly once
//	prefix   prompt-eval tokens with the shared system message and without
//	slots    the same requests alone before and after others ran in fours
func poolBench(mode string, nChunks, rounds, threads int, levels []int) {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "synthbench-")
	defer os.RemoveAll(dir)
	nServers := 1
	if mode == "servers" || mode == "kill" {
		nServers = 2
	}
	var srvs []*localollama.Server
	var urls []string
	model := "tiny"
	for i := range nServers {
		srv, err := localollama.Start(ctx, localollama.Options{Log: os.Stderr, NumParallel: 4, Env: strings.Fields(os.Getenv("SYNTHBENCH_SERVER_ENV"))})
		check(err)
		defer srv.Stop()
		check(srv.CreateTiny(ctx, "tiny"))
		if threads > 0 {
			mf := filepath.Join(dir, fmt.Sprintf("Modelfile-%d", i))
			check(os.WriteFile(mf, []byte(fmt.Sprintf("FROM tiny\nPARAMETER num_thread %d\n", threads)), 0o644))
			model = "tiny-threads"
			check(srv.CreateFromModelfile(ctx, model, mf))
		}
		srvs = append(srvs, srv)
		urls = append(urls, srv.URL)
	}
	chunks := benchChunks(ctx, dir, nChunks)
	p, err := persona.Load("synth/testdata/persona.yaml")
	check(err)
	opt := synth.Options{Model: model, Persona: p, PairsPerChunk: 2, Limits: synth.Limits{QuestionChars: 40, AnswerChars: 100}, Temperature: 0.8, Seed: 3}
	fmt.Printf("ollama %s, tiny random-weight model (num_thread %d), %d chunk(s), OLLAMA_NUM_PARALLEL=4, %d server(s)\n", localollama.Version, threads, nChunks, nServers)
	// run makes one synth run on the given servers at a level (0: auto)
	// with a fresh cache, and returns its summary and output.
	seq := 0
	run := func(hosts []string, level int, during func(*synth.Summary)) (*synth.Summary, []byte) {
		seq++
		// Every run starts from a freshly loaded model: an Ollama runner
		// keeps the prompt cache of every slot a run used, and with more
		// slots filled each request attends over a longer KV cache (a run
		// after a parallel-4 run went 3x slower at parallel 1 here).
		for _, h := range hosts {
			resetServer(ctx, h, model)
		}
		var ps []llm.PoolServer
		for _, h := range hosts {
			b, err := llm.NewOllama(h)
			check(err)
			ps = append(ps, llm.PoolServer{Name: h, Backend: b})
		}
		pool := llm.NewPool(ps, level)
		pool.ReloadAfterTrial(llm.DefaultConfig().Reload) // as the CLI
		defer pool.Close()
		o := opt
		o.Backend = pool
		o.CacheDir = filepath.Join(dir, fmt.Sprintf("cache-%d", seq))
		o.Progress = during
		if os.Getenv("SYNTHBENCH_TRACE") != "" {
			t0 := time.Now()
			o.Progress = func(s *synth.Summary) {
				fmt.Fprintf(os.Stderr, "%6.2fs %d/%d %s\n", time.Since(t0).Seconds(), s.TasksDone, s.Tasks, s.Parallel)
				if during != nil {
					during(s)
				}
			}
		}
		var out bytes.Buffer
		sum, err := synth.Run(ctx, chunks, o, &out)
		check(err)
		return sum, out.Bytes()
	}
	// warm every server up (model load)
	for _, u := range urls {
		run([]string{u}, 1, nil)
	}
	switch mode {
	case "auto":
		benchAuto(run, urls[0], rounds, levels)
	case "servers":
		benchServers(run, urls, rounds)
	case "kill":
		benchKill(run, urls, srvs, nChunks, opt.PairsPerChunk)
	case "prefix":
		benchPrefix(ctx, chunks, opt, urls[0], model)
	case "cancel":
		benchCancel(ctx, chunks, opt, urls[0], model)
	case "slots":
		benchSlots(ctx, chunks, opt, urls[0], model)
	default:
		check(fmt.Errorf("unknown -mode %q (direct, auto, servers, kill, prefix)", mode))
	}
}

type runFunc func(hosts []string, level int, during func(*synth.Summary)) (*synth.Summary, []byte)

// benchChunks makes the chunks of the repository's own sample sources.
func benchChunks(ctx context.Context, dir string, n int) string {
	var buf bytes.Buffer
	_, err := ingest.Run(ctx, []string{"testdata/corpora/subtitles/sintel/sintel_en.srt", "testdata/corpora/pdf-samples/026-latex-multicolumn/multicolumn.pdf"},
		ingest.Options{Chunk: ingest.ChunkOptions{Target: 60, Overlap: 0}}, &ingest.JSONOutput{Chunks: &buf})
	check(err)
	lines := strings.SplitAfter(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < n {
		check(fmt.Errorf("only %d chunks", len(lines)))
	}
	path := filepath.Join(dir, "chunks.jsonl")
	check(os.WriteFile(path, []byte(strings.Join(lines[:n], "")+"\n"), 0o644))
	return path
}

// benchAuto runs the fixed levels and auto in rotating order, rounds times
// each, and reports examples/s and auto's ratio to the best fixed level.
func benchAuto(run runFunc, host string, rounds int, levels []int) {
	conds := append(append([]int{}, levels...), 0)
	ex, toks, reqs := map[int]int{}, map[int]int{}, map[int]int{}
	sec := map[int]float64{}
	chosen := map[string]int{}
	for r := range rounds {
		for i := range conds {
			c := conds[(i+r)%len(conds)]
			sum, _ := run([]string{host}, c, nil)
			ex[c] += sum.Examples
			sec[c] += sum.Seconds
			toks[c] += sum.TokensOut
			reqs[c] += sum.Requests
			if c == 0 {
				chosen[sum.Parallel]++
			}
		}
	}
	best, bestRate := 0, 0.0
	for _, c := range levels {
		rate := float64(ex[c]) / sec[c]
		fmt.Printf("parallel %d: %d examples in %.1f s = %.3f examples/s (%d requests, %d tokens out)\n", c, ex[c], sec[c], rate, reqs[c], toks[c])
		if rate > bestRate {
			best, bestRate = c, rate
		}
	}
	auto := float64(ex[0]) / sec[0]
	fmt.Printf("parallel auto: %d examples in %.1f s = %.3f examples/s (%d requests, %d tokens out); ratio to the best fixed level (%d): %.3f\n", ex[0], sec[0], auto, reqs[0], toks[0], best, auto/bestRate)
	for k, v := range chosen {
		fmt.Printf("  auto ended %d time(s) at: %s\n", v, k)
	}
}

// benchServers compares one server with two, both at parallel auto.
func benchServers(run runFunc, urls []string, rounds int) {
	var ex1, ex2 int
	var s1, s2 float64
	for r := range rounds {
		for i := range 2 {
			if (i+r)%2 == 0 {
				sum, _ := run(urls[:1], 0, nil)
				ex1, s1 = ex1+sum.Examples, s1+sum.Seconds
			} else {
				sum, _ := run(urls, 0, nil)
				ex2, s2 = ex2+sum.Examples, s2+sum.Seconds
				fmt.Printf("  two servers: %s\n", sum.Parallel)
			}
		}
	}
	r1, r2 := float64(ex1)/s1, float64(ex2)/s2
	fmt.Printf("one server: %d examples in %.1f s = %.3f/s; two servers: %d in %.1f s = %.3f/s; ratio %.3f\n", ex1, s1, r1, ex2, s2, r2, r2/r1)
}

// benchKill runs on two servers and stops the second once a third of the
// tasks are done; the output must hold every task's examples exactly once.
func benchKill(run runFunc, urls []string, srvs []*localollama.Server, nChunks, pairs int) {
	var killed atomic.Bool
	var killedAt atomic.Int64
	start := time.Now()
	sum, out := run(urls, 0, func(s *synth.Summary) {
		if !killed.Load() && s.TasksDone >= s.Tasks/3 {
			killed.Store(true)
			killedAt.Store(int64(time.Since(start)))
			go srvs[1].Stop()
		}
	})
	ids := map[string]int{}
	perChunk := map[string]int{}
	for rec, err := range datasets.RawRecords(context.Background(), bytes.NewReader(out), "out") {
		check(err)
		r := rec.Decode()
		if r.Err != nil {
			check(fmt.Errorf("%s: %v", r.Pos, r.Err))
		}
		ids[r.Example.ID]++
		perChunk[r.Example.Meta.ChunkID]++
	}
	dups := 0
	for _, n := range ids {
		if n > 1 {
			dups++
		}
	}
	short := 0
	for _, n := range perChunk {
		if n != pairs {
			short++
		}
	}
	want := nChunks * pairs
	fmt.Printf("killed %s after %.1f s (%d of %d tasks done); %d examples written, %d expected, %d distinct ids, %d ids repeated, %d chunks with other than %d examples, %d chunks missing, failures %v\n",
		urls[1], time.Duration(killedAt.Load()).Seconds(), sum.Tasks/3, sum.Tasks, sum.Examples, want, len(ids), dups, short, pairs, nChunks-len(perChunk), sum.Failures)
	for _, st := range sum.Servers {
		fmt.Printf("  %s: %d requests, parallel %d (%s) down: %q\n", st.Name, st.Requests, st.Level, st.Why, st.Down)
	}
	if sum.Examples != want || len(ids) != want || dups > 0 || len(sum.Failures) > 0 {
		check(fmt.Errorf("not every example exactly once"))
	}
	fmt.Println("every example exactly once: yes")
}

// benchPrefix sends every task of each chunk, in order, at parallel 1 and
// sums the prompt tokens the server evaluated, with tuneline's prompts
// (persona and passage first, shared by the tasks of a chunk) and with the
// same text laid out task first (the passage after each task's own
// instructions), as the prompts were before.
func benchPrefix(ctx context.Context, chunks string, opt synth.Options, host, model string) {
	opt.Conversations, opt.Turns, opt.Preferences = 1, 2, 1
	b, reqs := planned(ctx, chunks, opt, host, model)
	taskFirst := make([]synth.PlannedRequest, len(reqs))
	for i, r := range reqs {
		sys, task := r.Request.Messages[0].Content, r.Request.Messages[1].Content
		head, passage, _ := strings.Cut(sys, "\n\nPassage:\n")
		q := r
		q.Request.Messages = []llm.Message{{Role: "system", Content: task + "\n\n" + head}, {Role: "user", Content: "Passage:\n" + passage}}
		taskFirst[i] = q
	}
	sets := []struct {
		name string
		reqs []synth.PlannedRequest
	}{{"shared system message", reqs}, {"task first", taskFirst}}
	got := map[string]int{}
	for round := range 2 {
		for i := range sets {
			set := sets[(i+round)%2]
			in, secs := promptEval(ctx, b.API(), set.reqs)
			got[set.name] += in
			fmt.Printf("round %d, %s: %d requests, %d prompt tokens evaluated, %.1f s\n", round, set.name, len(set.reqs), in, secs)
		}
	}
	fmt.Printf("prompt tokens evaluated, shared system message / task first: %d / %d = %.3f\n", got[sets[0].name], got[sets[1].name],
		float64(got[sets[0].name])/float64(got[sets[1].name]))
}

// promptEval sends the requests one after the other and sums the prompt
// tokens the server evaluated (prompt_eval_count: a prefix found in its
// cache is not evaluated again).
func promptEval(ctx context.Context, c *api.Client, reqs []synth.PlannedRequest) (evaluated int, secs float64) {
	start := time.Now()
	for _, r := range reqs {
		msgs := make([]api.Message, len(r.Request.Messages))
		for i, m := range r.Request.Messages {
			msgs[i] = api.Message{Role: m.Role, Content: m.Content}
		}
		stream := false
		check(c.Chat(ctx, &api.ChatRequest{Model: r.Request.Model, Messages: msgs, Stream: &stream, Format: r.Request.Schema,
			Options: map[string]any{"temperature": r.Request.Temperature, "seed": r.Request.Seed, "num_predict": 8}},
			func(cr api.ChatResponse) error { evaluated += cr.PromptEvalCount; return nil }))
	}
	return evaluated, time.Since(start).Seconds()
}

// benchCancel times one request alone, then the same request with a
// second one sent beside it and cancelled after 0.3 s: does a cancelled
// request stop slowing the server down?
func benchCancel(ctx context.Context, chunks string, opt synth.Options, host, model string) {
	b, reqs := planned(ctx, chunks, opt, host, model)
	one := func(r llm.Request) time.Duration {
		t0 := time.Now()
		_, err := b.Chat(ctx, r)
		check(err)
		return time.Since(t0)
	}
	for i := range 3 {
		alone := one(reqs[i].Request)
		done := make(chan time.Duration)
		go func() { done <- one(reqs[i].Request) }()
		time.Sleep(300 * time.Millisecond)
		cctx, cancel := context.WithCancel(ctx)
		go func() { b.Chat(cctx, reqs[i+5].Request) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		with := <-done
		fmt.Printf("request %d alone %.2f s; with a second one cancelled after 0.3 s: %.2f s\n", i, alone.Seconds(), with.Seconds())
	}
}

// resetServer unloads the model (keep_alive 0) and loads it again with one
// short request, so that no slot holds an earlier run's prompt cache.
func resetServer(ctx context.Context, host, model string) {
	b, err := llm.NewOllama(host)
	check(err)
	stream := false
	zero := api.Duration{}
	check(b.API().Generate(ctx, &api.GenerateRequest{Model: model, KeepAlive: &zero, Stream: &stream}, func(api.GenerateResponse) error { return nil }))
	for i := 0; i < 50; i++ { // wait until it is unloaded
		ps, err := b.API().ListRunning(ctx)
		check(err)
		if len(ps.Models) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	check(b.API().Generate(ctx, &api.GenerateRequest{Model: model, Prompt: "hi", Stream: &stream, Options: map[string]any{"num_predict": 1}}, func(api.GenerateResponse) error { return nil }))
}

// planned is a client of the server and the first request of every task
// synth would send for the chunks.
func planned(ctx context.Context, chunks string, opt synth.Options, host, model string) (*llm.Ollama, []synth.PlannedRequest) {
	b, err := llm.NewOllama(host)
	check(err)
	info, err := b.Preflight(ctx, model, false)
	check(err)
	reqs, err := synth.Plan(chunks, opt, info)
	check(err)
	return b, reqs
}
