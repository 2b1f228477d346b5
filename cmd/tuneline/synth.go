package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/cachedir"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

// SynthOptions are synth's inputs.
type SynthOptions struct {
	IO          *iostreams.IOStreams
	Chunks      []string
	PersonaFile string
	Out         string
	JSON        bool
	Server      llm.Config
	Config      synth.Config
	Batch       batchFlags
	synth.Options
}

// newSynthCmd wires synth's flags to its options; runF (nil: runSynth)
// runs them, so that a test can check the options without running.
func newSynthCmd(ios *iostreams.IOStreams, runF func(context.Context, *SynthOptions) error) *cli.Command {
	if runF == nil {
		runF = runSynth
	}
	o := &SynthOptions{IO: ios, Server: llm.DefaultConfig(), Config: synth.DefaultConfig()}
	return &cli.Command{
		Name:      "synth",
		Usage:     "generate persona Q&A pairs and conversations from chunks with a local model",
		ArgsUsage: "CHUNKS.jsonl...",
		Description: `Reads the chunks tuneline ingest wrote and asks the model, through Ollama's API
(or an OpenAI-compatible server with --api openai), for question/answer pairs in
the persona's voice — factual, conceptual, comparative, application and beginner
questions — and, with --conversations, multi-turn conversations with follow-ups.
Every chunk is used; by default the number of pairs grows with the chunk.

Replies are constrained by a JSON schema; a reply that is cut off, empty or
invalid is re-asked with the validation error (--retries), then reported. Network
errors and overload (503) are retried with backoff. --parallel requests are kept
in flight. Every validated reply is cached by content (model, persona, prompt
version, chunk, options, seed) under --cache: after any interruption — Ctrl-C or
kill -9 — a re-run does only the missing work. The output file appears only
complete (or, after Ctrl-C, with the finished chunks) and never with a partial
or duplicate example.

Each example is {"id","messages":[system, user, assistant...],"meta":{source,
doc_id, chunk_id, page/time, persona, model, kind, question_type}}. Several
CHUNKS files (the parts of ingest --shard) are read in order, as one.

Progress lines (stderr) and the summary give one rate, "N tokens received,
X/s": the reply tokens the servers sent (streamed ones as they arrive, every
reply's, re-asked ones too) over the seconds since synth started, preflight
included; the summary's is the last line's (--json: tokens_received,
tokens_out_per_second). "tokens in/out" are the servers' usage counts of the
replies that ended.

Batch engines (the OpenAI Batch API, vLLM's run_batch, any engine that reads
the same files): --batch-out requests.jsonl writes every request of the run in
the Batch API's input format instead of asking a server, and says how to run
them. --batch-in results.jsonl reads the engine's output (and error) lines, in
any order, and checks every reply exactly as a live one: the examples are
written and cached, and with --batch-out the re-asks (and requests whose line
is missing or failed at the engine) become the next round's file. Repeat until
the file is empty. A batch run and a live run (--api openai) of the same chunks
give the same examples; mixed runs meet in the cache.

--batch (with --api openai) does the rounds for you through OpenAI's Batch API
(or a service with the same /v1/files and /v1/batches; --base-url, else
$OPENAI_BASE_URL): it uploads the requests, creates the batch, prints its
request counts as they change (every --batch-poll), downloads the output and
error files and goes on until every reply is in. Interrupted (Ctrl-C, a crash),
the same command follows the same batch instead of submitting a new one. A
batch that expires or is cancelled keeps what it completed; the command then
fails, and the same command submits only the rest.

EXAMPLES:
   tuneline synth --model llama3.2 --persona persona.yaml --out examples.jsonl chunks.jsonl
   tuneline synth --model qwen2.5:7b --persona p.yaml --conversations 1 --parallel 4 chunks.jsonl > ex.jsonl
   tuneline synth --api openai --base-url http://gpu:8000/v1 --model Qwen/Qwen2.5-7B --persona p.yaml chunks.jsonl
   tuneline synth --model Qwen/Qwen2.5-7B --persona p.yaml --batch-out req-1.jsonl chunks-*.jsonl
   tuneline synth --model Qwen/Qwen2.5-7B --persona p.yaml --batch-in res-1.jsonl --batch-out req-2.jsonl --out ex.jsonl chunks-*.jsonl
   OPENAI_API_KEY=... tuneline synth --api openai --batch --model gpt-4.1-mini --persona p.yaml --out ex.jsonl chunks-*.jsonl

Exit codes: 0 all done, 1 some tasks failed (the rest is written), 130 interrupted.`,
		Flags: append(append(append(conf.Flags(&o.Server), conf.Flags(&o.Config)...),
			&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Required: true, Usage: "persona YAML `FILE`", Destination: &o.PersonaFile},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "examples `FILE` (- is stdout)", Destination: &o.Out},
			&cli.StringFlag{Name: "cache", Value: cachedir.Replies("synth"), Usage: "reply cache `DIR`", Destination: &o.CacheDir},
			&cli.BoolFlag{Name: "pull", Usage: "pull the model when the server does not have it", Destination: &o.Pull},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON (stdout when --out is a file, else stderr)", Destination: &o.JSON},
		), o.Batch.flags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErr("synth: give a CHUNKS.jsonl file, or several (the parts of a sharded ingest; see tuneline synth --help)")
			}
			o.Chunks = c.Args().Slice()
			return runF(c.Context, o)
		},
	}
}

// assemble sets the options synth.Run takes from the flags, generating
// through b: the same assembly as the workspace's synth stage
// (synth.Config.Options); the cache folder and --pull are the command's own.
func (o *SynthOptions) assemble(b llm.Backend) {
	opt := o.Config.Options(o.Server, o.Model, o.Persona, b)
	opt.CacheDir, opt.Pull = o.CacheDir, o.Pull
	o.Options = opt
}

func runSynth(ctx context.Context, o *SynthOptions) error {
	p, err := persona.Load(o.PersonaFile)
	if err != nil {
		return err
	}
	o.Persona = p
	if o.Model = o.Server.Model; o.Model == "" {
		return usageErr("synth: --model is required")
	}
	backend, _, pools, closeBackend, err := o.Batch.backend(ctx, o.CacheDir, o.Server)
	if err != nil {
		return err
	}
	defer closeBackend()
	o.assemble(backend)
	if err := o.Batch.rounds(ctx, o.IO, func(ctx context.Context, b llm.Backend) error {
		opt := o.Options
		opt.Backend, opt.Progress = b, nil
		_, err := synth.RunFiles(ctx, o.Chunks, opt, io.Discard)
		return err
	}); err != nil {
		return err
	}
	w, commit, abort, err := output(o.Out, o.IO.Out)
	if err != nil {
		return err
	}
	defer abort()
	ctx, bar, stopBar := modelProgress(ctx, o.IO, "synth tasks", 0, pools...)
	defer stopBar()
	o.Progress = func(s *synth.Summary) {
		bar.SetTotal(int64(s.Tasks))
		bar.Set(int64(s.TasksDone))
	}
	sum, err := synth.RunFiles(ctx, o.Chunks, o.Options, w)
	bar.Done()
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		return err
	}
	if cerr := commit(); cerr != nil {
		return cerr
	}
	so := summaryOut(o.IO, o.Out)
	var batch *llm.BatchStats
	if o.Batch.on() && !interrupted {
		st, err := o.Batch.finish(o.IO.ErrOut, o.IO.Quiet || o.JSON, sum.Deferred, "task", o.Model)
		if err != nil {
			return err
		}
		batch = &st
	}
	if o.JSON {
		writeJSON(so, struct {
			*synth.Summary
			Batch *llm.BatchStats `json:"batch,omitempty"`
		}{sum, batch})
	} else {
		fmt.Fprintf(o.IO.ErrOut, "%d chunks, %d of %d tasks done (%d from cache), %d examples; %d requests, %d re-asked, %d network retries\n",
			sum.Chunks, sum.TasksDone, sum.Tasks, sum.Cached, sum.Examples, sum.Requests, sum.Reasked, sum.Retried)
		fmt.Fprintf(o.IO.ErrOut, "tokens in %d, out %d; %.1f s, %.2f examples/s; %s\n", sum.TokensIn, sum.TokensOut, sum.Seconds, sum.ExamplesPerS, llm.RateNote(sum.TokensReceived, sum.TokensOutPerS))
		for _, st := range sum.Servers {
			line := fmt.Sprintf("%s: %d requests, parallel %d (%s)", st.Name, st.Requests, st.Level, st.Why)
			if st.Down != "" {
				line += "; down: " + st.Down
			}
			fmt.Fprintln(o.IO.ErrOut, line)
		}
		printFailures(o.IO.ErrOut, sum.Failures)
		for _, f := range sum.Failed {
			fmt.Fprintf(o.IO.ErrOut, "  task failed: %s\n", f)
		}
	}
	if err := o.Batch.err(); err != nil {
		return err
	}
	if interrupted {
		return withCode(ExitInterrupted, fmt.Errorf("interrupted: %d of %d tasks done; run the same command again to finish (finished work is cached)", sum.TasksDone, sum.Tasks))
	}
	if n := sum.FailedTasks(); n > 0 {
		if sum.TooManyFailed(o.MaxFailed) {
			return withCode(ExitFailure, fmt.Errorf("%d of %d tasks failed after retries (see above), more than --max-failed %g of them; run again to retry them", n, sum.Tasks, o.MaxFailed))
		}
		fmt.Fprintf(o.IO.ErrOut, "%d of %d tasks failed after retries, within --max-failed %g: the other tasks' examples are written; run again to retry the failed ones\n", n, sum.Tasks, o.MaxFailed)
	}
	return nil
}
