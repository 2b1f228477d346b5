package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/tune"
)

// batchFlags run synth or curate through a batch engine's files instead
// of a live server.
type batchFlags struct {
	In     cli.StringSlice
	Out    string
	Submit bool
	// Cancel cancels the batch Submit submitted before for the same
	// requests, reads what it completed and stops.
	Cancel bool
	Poll   time.Duration
	b      *llm.Batch
	api    *llm.BatchAPI
	store  string
	// ended is a submitted batch that ended without completing (expired,
	// cancelled, failed): told after the output of what completed is
	// written.
	ended error
	// cancelled says the batch was cancelled as asked (--batch-cancel).
	cancelled string
}

func (f *batchFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "batch-out", Usage: "write the requests to `FILE` in the OpenAI Batch API input format (for the Batch API or vLLM's run_batch) instead of asking a server", Destination: &f.Out},
		&cli.StringSliceFlag{Name: "batch-in", Usage: "read a batch engine's output or error `FILE` (repeat for several); replies are validated as live ones", Destination: &f.In},
		&cli.BoolFlag{Name: "batch", Usage: "submit the requests through the service's Batch API (api openai: upload to /v1/files, create a /v1/batches batch), follow it, read its output and error files and go on in rounds until every reply is in; interrupted, the same command follows the same batch", Destination: &f.Submit},
		&cli.BoolFlag{Name: "batch-cancel", Usage: "with --batch: cancel the batch the same command submitted before (an interrupted run leaves it running at the service), read the replies it completed (their examples are written and cached) and stop; --batch again submits what is left", Destination: &f.Cancel},
		&cli.DurationFlag{Name: "batch-poll", Value: 30 * time.Second, Usage: "with --batch: how often to look at a submitted batch", Destination: &f.Poll},
	}
}

func (f *batchFlags) on() bool { return f.Out != "" || len(f.In.Value()) > 0 || f.Submit }

// maxBatchRounds bounds the rounds of --batch: re-asks and requests the
// engine failed to answer go on for this many batches at most.
const maxBatchRounds = 8

// open makes the batch backend: results read into the store under
// cacheDir, requests without a reply going to --batch-out.
func (f *batchFlags) open(ctx context.Context, cacheDir string) (*llm.Batch, error) {
	f.store = filepath.Join(cacheDir, "batch")
	b := llm.NewBatch(f.store)
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
	if f.Cancel && !f.Submit {
		return nil, 0, nil, nil, usageErr("--batch-cancel goes with --batch: the same command as the run that submitted the batch, plus --batch-cancel")
	}
	if f.Submit {
		if err := f.openAPI(server); err != nil {
			return nil, 0, nil, nil, err
		}
	}
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

// openAPI checks --batch against the other flags and the server's API and
// makes the Batch API client: the server's base URL, else
// $OPENAI_BASE_URL, else OpenAI's.
func (f *batchFlags) openAPI(server llm.Config) error {
	if f.Out != "" || len(f.In.Value()) > 0 {
		return usageErr("--batch submits the requests itself: it takes neither --batch-out nor --batch-in")
	}
	if a, err := llm.LookupAPI(server.API); err != nil || !a.Batches {
		return usageErr("--batch needs a server with a Batch API (--api openai, OpenAI's service or one like it); for another engine write the requests with --batch-out and read its results with --batch-in")
	}
	base := server.BaseURL
	if base == "" {
		base = os.Getenv("OPENAI_BASE_URL")
	}
	if base == "" {
		base = tune.DefaultOpenAIBaseURL
	}
	api, err := llm.NewBatchAPI(base, server.APIKey, "")
	if err != nil {
		return usageErr("%v", err)
	}
	api.Poll = f.Poll
	f.api = api
	return nil
}

// rounds runs the work through the Batch API before the final pass: each
// round, pass runs the whole job against a batch backend that answers from
// the results read so far and writes the rest to a requests file; that
// file is submitted (or, when this same set of requests was submitted
// before, its batch followed), and the batch's output and error files are
// read. It stops when a pass has nothing left to ask, when a batch ends
// without completing (f.ended), or after maxBatchRounds. The final pass,
// the caller's, then answers everything from the results (f.b has read
// them all).
func (f *batchFlags) rounds(ctx context.Context, ios *iostreams.IOStreams, pass func(context.Context, llm.Backend) error) error {
	if !f.Submit {
		return nil
	}
	f.api.StateDir = filepath.Join(f.store, "submitted")
	say := func(format string, args ...any) {
		if !ios.Quiet {
			fmt.Fprintf(ios.ErrOut, format+"\n", args...)
		}
	}
	var files []string
	for round := 1; ; round++ {
		b := llm.NewBatch(f.store)
		for _, p := range files {
			if err := b.ReadResults(ctx, p); err != nil {
				return err
			}
		}
		reqs := filepath.Join(f.api.StateDir, "requests.jsonl")
		if err := os.MkdirAll(f.api.StateDir, 0o777); err != nil {
			return err
		}
		if err := b.WriteTo(reqs); err != nil {
			return err
		}
		if err := pass(ctx, b); err != nil {
			b.Abort()
			if errors.Is(err, context.Canceled) {
				return withCode(ExitInterrupted, errors.New("interrupted; run the same command again to go on (replies read so far are kept)"))
			}
			return err
		}
		st, err := b.Commit()
		if err != nil {
			return err
		}
		if st.Written == 0 {
			return nil
		}
		if round > maxBatchRounds {
			return nil
		}
		key := b.WrittenKey()
		var job llm.BatchJob
		if f.Cancel {
			id := f.api.Submitted(key)
			if id == "" {
				return usageErr("--batch-cancel: no batch of this command's %d requests is kept as submitted (none was, or its results were read); without --batch-cancel it submits them", st.Written)
			}
			say("batch round %d: cancelling batch %s", round, id)
			if job, err = f.api.Cancel(ctx, id); err != nil {
				// one that ended meanwhile cannot be cancelled: its results are read
				if j, gerr := f.api.Get(ctx, id); gerr == nil && j.Ended() {
					job, err = j, nil
				}
			}
		} else if id := f.api.Submitted(key); id != "" {
			say("batch round %d: %d requests, submitted before as batch %s: following it", round, st.Written, id)
		} else {
			say("batch round %d: uploading %d requests to %s", round, st.Written, f.api.BaseURL)
		}
		if !f.Cancel {
			job, err = f.api.Submit(ctx, reqs, key)
		}
		if err == nil {
			job, err = f.api.Wait(ctx, job, func(j llm.BatchJob) {
				c := j.RequestCounts
				say("batch %s: %s, %d of %d requests done, %d failed", j.ID, j.Status, c.Completed, c.Total, c.Failed)
			})
		}
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			if job.ID == "" {
				return withCode(ExitInterrupted, errors.New("interrupted before the batch was created; run the same command again to submit it"))
			}
			return withCode(ExitInterrupted, fmt.Errorf("interrupted: batch %s goes on at the service; run the same command again to follow it and read its results, or with --batch-cancel to cancel it", job.ID))
		}
		if err != nil {
			return err
		}
		got, err := f.api.Download(ctx, job)
		if err != nil {
			return err
		}
		for _, p := range got {
			if err := f.b.ReadResults(ctx, p); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		files = append(files, got...)
		if err := f.api.Forget(key); err != nil {
			return err
		}
		if f.Cancel {
			c := job.RequestCounts
			f.cancelled = fmt.Sprintf("batch %s is %s (--batch-cancel) with %d of %d requests answered (kept); run the same command without --batch-cancel to submit the rest",
				job.ID, job.Status, c.Completed, st.Written)
			return nil
		}
		if job.Status != "completed" {
			c := job.RequestCounts
			switch job.Status {
			case "failed":
				f.ended = fmt.Errorf("batch %s failed at the service: %s (its requests: %s)", job.ID, job.Problems(3), reqs)
			default:
				f.ended = fmt.Errorf("batch %s %s with %d of %d requests answered (kept: their examples are written and cached); run the same command again to submit the %d left",
					job.ID, job.Status, c.Completed, c.Total, c.Total-c.Completed)
			}
			return nil
		}
	}
}

// err is what a --batch run ends with after its output is written.
func (f *batchFlags) err() error {
	if f.ended != nil {
		return withCode(ExitFailure, f.ended)
	}
	return nil
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
	if f.Submit {
		if f.cancelled != "" {
			fmt.Fprintf(w, "batch: %d %ss without a reply: %s\n", deferred, what, f.cancelled)
		} else if f.ended == nil {
			fmt.Fprintf(w, "batch: %d %ss still without a reply after %d rounds; run the same command again to ask them again\n", deferred, what, maxBatchRounds)
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
