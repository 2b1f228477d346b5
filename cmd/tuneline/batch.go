package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/llm"
)

// batchFlags run synth or curate through a batch engine's files instead
// of a live server.
type batchFlags struct {
	In  cli.StringSlice
	Out string
	b   *llm.Batch
}

func (f *batchFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "batch-out", Usage: "write the requests to `FILE` in the OpenAI Batch API input format (for the Batch API or vLLM's run_batch) instead of asking a server", Destination: &f.Out},
		&cli.StringSliceFlag{Name: "batch-in", Usage: "read a batch engine's output or error `FILE` (repeat for several); replies are validated as live ones", Destination: &f.In},
	}
}

func (f *batchFlags) on() bool { return f.Out != "" || len(f.In.Value()) > 0 }

// open makes the batch backend: results read into the store under
// cacheDir, requests without a reply going to --batch-out.
func (f *batchFlags) open(ctx context.Context, cacheDir string) (*llm.Batch, error) {
	b := llm.NewBatch(filepath.Join(cacheDir, "batch"))
	for _, p := range f.In.Value() {
		if err := b.ReadResults(ctx, p); err != nil {
			return nil, fmt.Errorf("--batch-in %s: %w", p, err)
		}
	}
	if f.Out != "" {
		if err := b.WriteTo(f.Out); err != nil {
			return nil, fmt.Errorf("--batch-out: %w", err)
		}
	}
	f.b = b
	return b, nil
}

// backend is what synth and curate generate through: the batch backend
// when --batch-in or --batch-out is given, else a pool of the servers; pools
// feed the progress line, and closeFn ends either.
func (f *batchFlags) backend(ctx context.Context, cacheDir string, server llm.Config) (b llm.Backend, parallel int, pools []*llm.Pool, closeFn func(), err error) {
	if f.on() {
		bb, err := f.open(ctx, cacheDir)
		if err != nil {
			return nil, 0, nil, nil, err
		}
		return bb, bb.Workers(), nil, f.abort, nil
	}
	pool, err := backendFor(server)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	return pool, pool.Workers(), []*llm.Pool{pool}, func() { pool.Close() }, nil
}

func (f *batchFlags) abort() {
	if f.b != nil {
		f.b.Abort()
	}
}

// finish writes the next batch file and says what is left and how to go
// on: the command to run the requests and the one to read their replies.
func (f *batchFlags) finish(w io.Writer, quiet bool, deferred int, what, model string) (llm.BatchStats, error) {
	st, err := f.b.Commit()
	if err != nil || quiet {
		return st, err
	}
	if st.ResultLines > 0 || st.BadLines > 0 {
		fmt.Fprintf(w, "batch: %d result lines read (%d error lines), %d requests answered from them\n", st.ResultLines, st.ErrorLines, st.Answered)
	}
	if st.BadLines > 0 {
		fmt.Fprintf(w, "batch: %d lines skipped, not results (first: %s)\n", st.BadLines, st.FirstBad)
	}
	if st.Unknown > 0 {
		fmt.Fprintf(w, "batch: %d lines answer no request of this run (another run's, or of work already done), ignored: %s\n", st.Unknown, strings.Join(st.UnknownIDs, ", "))
	}
	if deferred == 0 {
		if f.Out != "" {
			fmt.Fprintf(w, "batch: nothing left, every %s is done (%s is empty)\n", what, f.Out)
		}
		return st, nil
	}
	if f.Out == "" {
		fmt.Fprintf(w, "batch: %d %ss wait for replies; give --batch-out FILE to write their requests\n", deferred, what)
		return st, nil
	}
	fmt.Fprintf(w, "batch: %d requests for %d %ss written to %s", st.Written, deferred, what, f.Out)
	if st.Missing > 0 || st.Requeued > 0 {
		fmt.Fprintf(w, " (%d asked again: no line came back; %d asked again after an engine error)", st.Missing, st.Requeued)
	}
	fmt.Fprintf(w, `
Run them with a batch engine, for example:
  OpenAI Batch API:  upload %[1]s (purpose "batch") and create a batch for /v1/chat/completions
  vLLM:              python -m vllm.entrypoints.openai.run_batch -i %[1]s -o results.jsonl --model %[2]s
then read the replies (and write the next round's re-asks) with the same command and
  --batch-in results.jsonl --batch-out next.jsonl
until nothing is left.
`, f.Out, model)
	return st, nil
}
