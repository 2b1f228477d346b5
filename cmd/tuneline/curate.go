package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/cachedir"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/synth"
)

// CurateOptions are curate's inputs.
type CurateOptions struct {
	IO          *iostreams.IOStreams
	Examples    string
	Out         string
	PersonaFile string
	JSON        bool
	Server      llm.Config
	Config      synth.CurateConfig
	Batch       batchFlags
	ChunkFiles  cli.StringSlice
	synth.CurateOptions
}

// newCurateCmd wires curate's flags to its options; runF (nil: runCurate)
// runs them, so that a test can check the options without running.
func newCurateCmd(ios *iostreams.IOStreams, runF func(context.Context, *CurateOptions) error) *cli.Command {
	if runF == nil {
		runF = runCurate
	}
	o := &CurateOptions{IO: ios, Server: llm.DefaultConfig(), Config: synth.DefaultCurateConfig()}
	return &cli.Command{
		Name:      "curate",
		Usage:     "score examples with an LLM judge and keep the good ones",
		ArgsUsage: "EXAMPLES.jsonl",
		Description: `Asks a judge model (structured output) to score every example from 1 to 5 for
accuracy, grounding in its source chunk (--chunks, found by meta.chunk_id;
repeat --chunks for the parts of a sharded ingest),
persona adherence (--persona) and clarity. The scores and their mean ("overall")
go into meta.scores, the judge's reason into meta.extra.judge_reason; examples
whose overall score is below --min-score are left out. Judgements are cached
like synth's replies. Prints the score distribution. --batch-out and --batch-in
run the judge through a batch engine's files, in rounds, as synth does;
--batch (--api openai) submits them to the Batch API and follows it for you.

EXAMPLES:
   tuneline curate --model llama3.2 --persona persona.yaml --chunks chunks.jsonl --min-score 3.5 --out curated.jsonl examples.jsonl`,
		Flags: append(append(append(conf.Flags(&o.Server), conf.Flags(&o.Config)...),
			&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Usage: "persona YAML `FILE`", Destination: &o.PersonaFile},
			&cli.StringSliceFlag{Name: "chunks", Usage: "the chunks `FILE` the examples came from (repeat for the parts of a sharded ingest)", Destination: &o.ChunkFiles},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "curated examples `FILE`", Destination: &o.Out},
			&cli.StringFlag{Name: "cache", Value: cachedir.Replies("curate"), Usage: "judgement cache `DIR`", Destination: &o.CacheDir},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON", Destination: &o.JSON},
		), o.Batch.flags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("curate: give one EXAMPLES.jsonl file (see tuneline curate --help)")
			}
			o.Examples = c.Args().First()
			return runF(c.Context, o)
		},
	}
}

// backendFor is the pool of the configured servers (one or several, each
// at the --parallel level or measured).
func backendFor(c llm.Config) (*llm.Pool, error) {
	b, err := llm.Open(c)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return b, nil
}

// assemble sets the options synth.Curate takes from the flags, judging
// through b: the same assembly as the workspace's curate stage
// (synth.CurateConfig.Options); the chunks files and cache folder are the
// command's own.
func (o *CurateOptions) assemble(b llm.Backend) {
	opt := o.Config.Options(o.Server, o.Model, o.Persona, b)
	opt.Chunks, opt.CacheDir = o.ChunkFiles.Value(), o.CacheDir
	o.CurateOptions = opt
}

func runCurate(ctx context.Context, o *CurateOptions) error {
	var err error
	if o.PersonaFile != "" {
		if o.Persona, err = persona.Load(o.PersonaFile); err != nil {
			return err
		}
	}
	if o.Model = o.Server.Model; o.Model == "" {
		return usageErr("curate: --model (the judge) is required")
	}
	backend, _, pools, closeBackend, err := o.Batch.backend(ctx, o.CacheDir, o.Server)
	if err != nil {
		return err
	}
	defer closeBackend()
	o.assemble(backend)
	if o.Batch.Submit && o.Examples == "-" {
		return usageErr("curate --batch reads the examples once a round: give a file, not standard input")
	}
	if err := o.Batch.rounds(ctx, o.IO, func(ctx context.Context, b llm.Backend) error {
		opt := o.CurateOptions
		opt.Backend, opt.Progress = b, nil
		_, err := synth.Curate(ctx, o.Examples, opt, io.Discard)
		return err
	}); err != nil {
		return err
	}
	w, commit, abort, err := output(o.Out, o.IO.Out)
	if err != nil {
		return err
	}
	defer abort()
	var total int64 // unknown for standard input, which can be read once only
	if o.Examples != "-" && !o.IO.Quiet {
		n, _ := datasets.CountLines(o.Examples) // Curate reports an unreadable file
		total = int64(n)
	}
	ctx, bar, stopBar := modelProgress(ctx, o.IO, "curate", total, pools...)
	defer stopBar()
	o.Progress = func(done int) { bar.Set(int64(done)) }
	sum, err := synth.Curate(ctx, o.Examples, o.CurateOptions, w)
	bar.Done()
	if errors.Is(err, context.Canceled) {
		return withCode(ExitInterrupted, fmt.Errorf("interrupted; run again to finish (judgements are cached)"))
	}
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	so := summaryOut(o.IO, o.Out)
	var batch *llm.BatchStats
	if o.Batch.on() {
		st, err := o.Batch.finish(o.IO.ErrOut, o.IO.Quiet || o.JSON, sum.Deferred, "judgement", o.Model)
		if err != nil {
			return err
		}
		batch = &st
	}
	if o.JSON {
		writeJSON(so, struct {
			*synth.CurateSummary
			Batch *llm.BatchStats `json:"batch,omitempty"`
		}{sum, batch})
	} else {
		fmt.Fprintf(o.IO.ErrOut, "%d examples, %d scored (%d cached), %d kept, %d below --min-score %.2f, %d invalid input\n",
			sum.Examples, sum.Scored, sum.Cached, sum.Kept, sum.Dropped, o.MinScore, sum.Invalid)
		fmt.Fprintf(o.IO.ErrOut, "  %-10s %5s   1    2    3    4    5\n", "criterion", "mean")
		for _, c := range synth.Criteria {
			h := sum.Histogram[c]
			fmt.Fprintf(o.IO.ErrOut, "  %-10s %5.2f %4d %4d %4d %4d %4d\n", c, sum.Mean[c], h[1], h[2], h[3], h[4], h[5])
		}
		fmt.Fprintf(o.IO.ErrOut, "  %-10s %5.2f\n", "overall", sum.Mean["overall"])
		if sum.Pairs > 0 {
			fmt.Fprintf(o.IO.ErrOut, "%d preference pairs judged: the judge preferred the rejected reply in %d, left out\n", sum.Pairs, sum.PairsDisagreed)
		}
		printFailures(o.IO.ErrOut, sum.Failures)
	}
	if err := o.Batch.err(); err != nil {
		return err
	}
	if len(sum.Failures) > 0 {
		return withCode(ExitFailure, fmt.Errorf("some examples could not be scored; run again to retry them"))
	}
	return nil
}
