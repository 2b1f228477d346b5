// Command synthbench measures tuneline's synth runner against a minimal
// direct client loop sending the same requests to the same real ollama
// server, at several parallelism levels, in one run.
//
//	go run ./bench/synthbench [-chunks N] [-levels 1,2,4]
//	go run ./bench/synthbench -mode auto|servers|kill|prefix [-chunks N] [-rounds N] [-threads N]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

func main() {
	nChunks := flag.Int("chunks", 12, "chunks to generate from")
	threads := flag.Int("threads", 1, "the server's generation threads (num_thread; 0: ollama's default, all cores)")
	verbose := flag.Bool("v", false, "print every run's time")
	rounds := flag.Int("rounds", 8, "rounds per level (each runs both sides once)")
	levels := flag.String("levels", "1,2,4", "parallelism levels")
	shared := flag.String("shared", "../shared", "the shared folder")
	retries := flag.Int("retries", 0, "tuneline's re-asks per task (0: its default; -1: none)")
	mode := flag.String("mode", "direct", "direct: tuneline against a direct client loop at each level; auto: --parallel auto against the fixed levels; servers: two servers against one; kill: two servers, one killed mid-run; prefix: prompt tokens evaluated with the shared system message and without; slots: the same requests alone before and after others ran in fours")
	flag.Parse()
	if *mode != "direct" {
		var lv []int
		for _, l := range strings.Split(*levels, ",") {
			n, err := strconv.Atoi(l)
			check(err)
			lv = append(lv, n)
		}
		poolBench(*mode, *nChunks, *rounds, *threads, lv)
		return
	}
	ctx := context.Background()
	srv, err := localollama.Start(ctx, localollama.Options{Log: os.Stderr, NumParallel: 4})
	check(err)
	defer srv.Stop()
	check(srv.CreateTiny(ctx, "tiny"))
	dir, _ := os.MkdirTemp("", "synthbench-")
	defer os.RemoveAll(dir)
	model := "tiny"
	if *threads > 0 {
		mf := filepath.Join(dir, "Modelfile")
		check(os.WriteFile(mf, []byte(fmt.Sprintf("FROM tiny\nPARAMETER num_thread %d\n", *threads)), 0o644))
		model = "tiny-threads"
		check(srv.CreateFromModelfile(ctx, model, mf))
	}

	var buf bytes.Buffer
	_, err = ingest.Run(ctx, []string{filepath.Join(*shared, "corpora/subtitles/sintel/sintel_en.srt"), filepath.Join(*shared, "corpora/pdf-samples/026-latex-multicolumn/multicolumn.pdf")},
		ingest.Options{Chunk: ingest.ChunkOptions{Target: 60, Overlap: 0}}, &ingest.JSONOutput{Chunks: &buf})
	check(err)
	lines := strings.SplitAfter(strings.TrimSpace(buf.String()), "\n")
	lines = lines[:min(len(lines), *nChunks)]
	chunks := filepath.Join(dir, "chunks.jsonl")
	check(os.WriteFile(chunks, []byte(strings.Join(lines, "")+"\n"), 0o644))

	p, err := persona.Load("synth/testdata/persona.yaml")
	check(err)
	st := &serverStats{}
	host := srv.URL
	if *verbose {
		host = recordingProxy(srv.URL, st)
	}
	backend, err := llm.NewOllama(host)
	check(err)
	tb := &timedBackend{Backend: backend}
	opt := synth.Options{Retries: *retries, Model: model, Persona: p, Backend: tb, PairsPerChunk: 2, Limits: synth.Limits{QuestionChars: 40, AnswerChars: 100}, Temperature: 0.8, Seed: 3}
	info, err := backend.Preflight(ctx, model, false)
	check(err)
	reqs, err := synth.Plan(chunks, opt, info)
	check(err)
	fmt.Printf("server %s (ollama %s, OLLAMA_NUM_PARALLEL=4), tiny random-weight model, %d chunks, %d requests of %d pairs\n", srv.URL, localollama.Version, len(lines), len(reqs), opt.PairsPerChunk)
	// warm up
	direct(ctx, host, reqs[:2], 1)
	st.take()

	// Each level alternates the two sides in ABBA order over -rounds
	// rounds, so that neither gains from the server's prompt cache or
	// warm-up, and slow drifts of this shared machine fall on both alike.
	for _, ls := range strings.Split(*levels, ",") {
		par, _ := strconv.Atoi(ls)
		var tlEx, tlReq, tlReask, dEx, dReq int
		var tlTok, dTok int
		causes := map[string]int{}
		var tlSec, dSec, tlChat float64
		for round := range *rounds {
			runTL := func() {
				o := opt
				o.Parallel = par
				o.CacheDir = filepath.Join(dir, fmt.Sprintf("cache-%d-%d", par, round))
				tb.take()
				c0 := cpu()
				start := time.Now()
				sum, err := synth.Run(ctx, chunks, o, &bytes.Buffer{})
				check(err)
				tlSec += time.Since(start).Seconds()
				if *verbose {
					fmt.Fprintf(os.Stderr, "round %d tuneline %.2f s, client cpu %.3f s; %s\n", round, time.Since(start).Seconds(), cpu()-c0, st.take())
				}
				tlChat += tb.take()
				tlEx += sum.Examples
				tlReq += sum.Requests
				tlReask += sum.Reasked
				tlTok += sum.TokensOut
				for k, v := range sum.Failures {
					causes[k] += v
				}
			}
			runD := func() {
				c0 := cpu()
				start := time.Now()
				ex, tok := direct(ctx, host, reqs, par)
				dSec += time.Since(start).Seconds()
				if *verbose {
					fmt.Fprintf(os.Stderr, "round %d direct %.2f s, client cpu %.3f s; %s\n", round, time.Since(start).Seconds(), cpu()-c0, st.take())
				}
				dEx += ex
				dTok += tok
				dReq += len(reqs)
			}
			if round%4 == 0 || round%4 == 3 {
				runTL()
				runD()
			} else {
				runD()
				runTL()
			}
		}
		tlRate, dRate := float64(tlEx)/tlSec, float64(dEx)/dSec
		fmt.Printf("parallel %d: tuneline %d examples in %.2f s = %.3f/s (%d requests, %d re-asks, failures %v, %d tokens out); direct loop %d examples in %.2f s = %.3f/s (%d requests, %d tokens out); ratio %.3f\n",
			par, tlEx, tlSec, tlRate, tlReq, tlReask, causes, tlTok, dEx, dSec, dRate, dReq, dTok, tlRate/dRate)
		if par == 1 {
			fmt.Printf("  tuneline's own time outside requests at parallel 1: %.3f s of %.2f s (%.2f %%)\n", tlSec-tlChat, tlSec, 100*(tlSec-tlChat)/tlSec)
		}
	}
}

// direct sends the planned requests with par goroutines and counts the
// examples of the replies that are valid JSON, as a hand-written script
// would.
func direct(ctx context.Context, host string, reqs []synth.PlannedRequest, par int) (examples, tokensOut int) {
	u, _ := url.Parse(host)
	c := api.NewClient(u, &http.Client{})
	var mu sync.Mutex
	next := make(chan synth.PlannedRequest)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				msgs := make([]api.Message, len(r.Request.Messages))
				for i, m := range r.Request.Messages {
					msgs[i] = api.Message{Role: m.Role, Content: m.Content}
				}
				stream := false
				var content string
				var evals int
				err := c.Chat(ctx, &api.ChatRequest{Model: r.Request.Model, Messages: msgs, Stream: &stream, Format: r.Request.Schema,
					Options: map[string]any{"temperature": r.Request.Temperature, "seed": r.Request.Seed, "num_predict": r.Request.MaxTokens}},
					func(cr api.ChatResponse) error { content += cr.Message.Content; evals += cr.EvalCount; return nil })
				mu.Lock()
				tokensOut += evals
				if err == nil && json.Valid([]byte(content)) {
					examples += r.Examples
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	return examples, tokensOut
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthbench:", err)
		os.Exit(1)
	}
}

type timedBackend struct {
	llm.Backend
	mu  sync.Mutex
	sec float64
}

func (t *timedBackend) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	start := time.Now()
	rep, err := t.Backend.Chat(ctx, r)
	t.mu.Lock()
	t.sec += time.Since(start).Seconds()
	t.mu.Unlock()
	return rep, err
}

func (t *timedBackend) take() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sec
	t.sec = 0
	return s
}

func cpu() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// serverStats sums the timings the server reports in its replies, through
// a recording reverse proxy (diagnostics, -v).
type serverStats struct {
	mu                                  sync.Mutex
	total, load, promptEval, evalDur    time.Duration
	promptTokens, evalTokens, responses int
}

func (st *serverStats) take() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := fmt.Sprintf("server: %d replies, total %.2f s, load %.2f s, prompt %d tok in %.2f s, eval %d tok in %.2f s",
		st.responses, st.total.Seconds(), st.load.Seconds(), st.promptTokens, st.promptEval.Seconds(), st.evalTokens, st.evalDur.Seconds())
	st.total, st.load, st.promptEval, st.evalDur = 0, 0, 0, 0
	st.promptTokens, st.evalTokens, st.responses = 0, 0, 0
	return s
}

func recordingProxy(target string, st *serverStats) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path != "/api/chat" {
			return nil
		}
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		var cr api.ChatResponse
		if json.Unmarshal(b, &cr) == nil {
			st.mu.Lock()
			st.responses++
			st.total += cr.TotalDuration
			st.load += cr.LoadDuration
			st.promptEval += cr.PromptEvalDuration
			st.evalDur += cr.EvalDuration
			st.promptTokens += cr.PromptEvalCount
			st.evalTokens += cr.EvalCount
			st.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, rp)
	return "http://" + ln.Addr().String()
}
