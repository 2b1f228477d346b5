// Command synthbench measures tuneline's synth runner against a minimal
// direct client loop sending the same requests to the same real ollama
// server, at several parallelism levels, in one run.
//
//	go run ./bench/synthbench [-chunks N] [-levels 1,2,4]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/localollama"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

func main() {
	nChunks := flag.Int("chunks", 24, "chunks to generate from")
	levels := flag.String("levels", "1,2,4", "parallelism levels")
	shared := flag.String("shared", "../shared", "the shared folder")
	flag.Parse()
	ctx := context.Background()
	srv, err := localollama.Start(ctx, localollama.Options{Log: os.Stderr, NumParallel: 4})
	check(err)
	defer srv.Stop()
	check(srv.CreateTiny(ctx, "tiny"))
	dir, _ := os.MkdirTemp("", "synthbench-")
	defer os.RemoveAll(dir)

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
	backend, err := synth.NewOllama(srv.URL)
	check(err)
	opt := synth.Options{Model: "tiny", Persona: p, Backend: backend, PairsPerChunk: 2, Limits: synth.Limits{QuestionChars: 40, AnswerChars: 100}, Temperature: 0.8, Seed: 3}
	info, err := backend.Preflight(ctx, "tiny", false)
	check(err)
	reqs, err := synth.Plan(chunks, opt, info)
	check(err)
	fmt.Printf("server %s (ollama %s, OLLAMA_NUM_PARALLEL=4), tiny random-weight model, %d chunks, %d requests of %d pairs\n", srv.URL, localollama.Version, len(lines), len(reqs), opt.PairsPerChunk)
	// warm up
	direct(ctx, srv.URL, reqs[:2], 1)

	// Each level runs tuneline, direct, direct, tuneline (ABBA) so that
	// neither side gains from the server's prompt cache or warm-up.
	for _, ls := range strings.Split(*levels, ",") {
		par, _ := strconv.Atoi(ls)
		var tlEx, tlReq, dEx int
		var tlSec, dSec float64
		for round := range 2 {
			runTL := func() {
				o := opt
				o.Parallel = par
				o.CacheDir = filepath.Join(dir, fmt.Sprintf("cache-%d-%d", par, round))
				start := time.Now()
				sum, err := synth.Run(ctx, chunks, o, &bytes.Buffer{})
				check(err)
				tlSec += time.Since(start).Seconds()
				tlEx += sum.Examples
				tlReq += sum.Requests
			}
			runD := func() {
				start := time.Now()
				dEx += direct(ctx, srv.URL, reqs, par)
				dSec += time.Since(start).Seconds()
			}
			if round == 0 {
				runTL()
				runD()
			} else {
				runD()
				runTL()
			}
		}
		tlRate, dRate := float64(tlEx)/tlSec, float64(dEx)/dSec
		fmt.Printf("parallel %d: tuneline %d examples in %.2f s = %.2f/s (%d requests); direct loop %d examples in %.2f s = %.2f/s (%d requests); ratio %.3f\n",
			par, tlEx, tlSec, tlRate, tlReq, dEx, dSec, dRate, 2*len(reqs), tlRate/dRate)
	}
}

// direct sends the planned requests with par goroutines and counts the
// examples of the replies that are valid JSON, as a hand-written script
// would.
func direct(ctx context.Context, host string, reqs []synth.PlannedRequest, par int) int {
	u, _ := url.Parse(host)
	c := api.NewClient(u, &http.Client{})
	var mu sync.Mutex
	total := 0
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
				err := c.Chat(ctx, &api.ChatRequest{Model: r.Request.Model, Messages: msgs, Stream: &stream, Format: r.Request.Schema,
					Options: map[string]any{"temperature": r.Request.Temperature, "seed": r.Request.Seed, "num_predict": r.Request.MaxTokens}},
					func(cr api.ChatResponse) error { content += cr.Message.Content; return nil })
				if err == nil && json.Valid([]byte(content)) {
					mu.Lock()
					total += r.Examples
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	return total
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthbench:", err)
		os.Exit(1)
	}
}
