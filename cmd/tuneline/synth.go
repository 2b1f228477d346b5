package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/progress"
	"github.com/tuneline/tuneline/synth"
)

// SynthOptions are synth's inputs.
type SynthOptions struct {
	IO          *iostreams.IOStreams
	Chunks      string
	PersonaFile string
	Out         string
	API         string
	Host        string
	BaseURL     string
	APIKey      string
	JSON        bool
	Timeout     time.Duration
	synth.Options
}

func newSynthCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &SynthOptions{IO: ios}
	return &cli.Command{
		Name:      "synth",
		Usage:     "generate persona Q&A pairs and conversations from chunks with a local model",
		ArgsUsage: "CHUNKS.jsonl",
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
doc_id, chunk_id, page/time, persona, model, kind, question_type}}.

EXAMPLES:
   tuneline synth --model llama3.2 --persona persona.yaml --out examples.jsonl chunks.jsonl
   tuneline synth --model qwen2.5:7b --persona p.yaml --conversations 1 --parallel 4 chunks.jsonl > ex.jsonl
   tuneline synth --api openai --base-url http://gpu:8000/v1 --model Qwen/Qwen2.5-7B --persona p.yaml chunks.jsonl

Exit codes: 0 all done, 1 some tasks failed (the rest is written), 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Required: true, Usage: "model `NAME`", Destination: &o.Model},
			&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Required: true, Usage: "persona YAML `FILE`", Destination: &o.PersonaFile},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "examples `FILE` (- is stdout)", Destination: &o.Out},
			&cli.StringFlag{Name: "host", Value: llm.DefaultHost(), Usage: "Ollama server: a URL or host[:port], read as Ollama reads $OLLAMA_HOST", Destination: &o.Host},
			&cli.StringFlag{Name: "api", Value: "ollama", Usage: "ollama | openai (OpenAI-compatible: vLLM, llama.cpp, SGLang)", Destination: &o.API},
			&cli.StringFlag{Name: "base-url", Usage: "OpenAI-compatible base `URL` (with /v1)", Destination: &o.BaseURL},
			&cli.StringFlag{Name: "api-key", EnvVars: []string{"OPENAI_API_KEY"}, Usage: "key for --api openai", Destination: &o.APIKey},
			&cli.IntFlag{Name: "pairs", Usage: "Q&A pairs per chunk (0: one per --tokens-per-pair tokens)", Destination: &o.PairsPerChunk},
			&cli.IntFlag{Name: "tokens-per-pair", Value: 150, Usage: "chunk tokens per Q&A pair", Destination: &o.TokensPerPair},
			&cli.IntFlag{Name: "max-pairs", Value: 5, Usage: "most Q&A pairs per chunk", Destination: &o.MaxPairs},
			&cli.IntFlag{Name: "conversations", Usage: "multi-turn conversations per chunk", Destination: &o.Conversations},
			&cli.IntFlag{Name: "turns", Value: 3, Usage: "turns per conversation", Destination: &o.Turns},
			&cli.IntFlag{Name: "max-question-chars", Value: 400, Usage: "longest question", Destination: &o.Limits.QuestionChars},
			&cli.IntFlag{Name: "max-answer-chars", Value: 1500, Usage: "longest answer", Destination: &o.Limits.AnswerChars},
			&cli.IntFlag{Name: "parallel", Value: 2, Usage: "requests in flight", Destination: &o.Parallel},
			&cli.IntFlag{Name: "retries", Value: 3, Usage: "re-asks of an invalid reply", Destination: &o.Retries},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "per request", Destination: &o.Timeout},
			&cli.Float64Flag{Name: "temperature", Value: 0.7, Destination: &o.Temperature},
			&cli.IntFlag{Name: "seed", Value: 1, Destination: &o.Seed},
			&cli.StringFlag{Name: "cache", Value: filepath.Join(".tuneline", "cache", "synth"), Usage: "reply cache `DIR`", Destination: &o.CacheDir},
			&cli.BoolFlag{Name: "pull", Usage: "pull the model when the server does not have it", Destination: &o.Pull},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON (stdout when --out is a file, else stderr)", Destination: &o.JSON},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("synth: give one CHUNKS.jsonl file (see tuneline synth --help)")
			}
			o.Chunks = c.Args().First()
			return runSynth(c.Context, o)
		},
	}
}

func runSynth(ctx context.Context, o *SynthOptions) error {
	p, err := persona.Load(o.PersonaFile)
	if err != nil {
		return err
	}
	o.Persona = p
	if o.Backend, err = backendFor(o.API, o.Host, o.BaseURL, o.APIKey); err != nil {
		return err
	}
	o.Options.Timeout = o.Timeout
	w, commit, abort, err := output(o.Out, o.IO.Out)
	if err != nil {
		return err
	}
	defer abort()
	bar := progress.New(o.IO.ErrOut, progress.Options{Label: "synth tasks", Live: o.IO.StderrTTY, Off: o.IO.Quiet})
	o.Progress = func(s *synth.Summary) {
		bar.SetTotal(int64(s.Tasks))
		bar.Set(int64(s.TasksDone))
	}
	sum, err := synth.Run(ctx, o.Chunks, o.Options, w)
	bar.Done()
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		return err
	}
	if cerr := commit(); cerr != nil {
		return cerr
	}
	so := summaryOut(o.IO, o.Out)
	if o.JSON {
		writeJSON(so, sum)
	} else {
		fmt.Fprintf(o.IO.ErrOut, "%d chunks, %d of %d tasks done (%d from cache), %d examples; %d requests, %d re-asked, %d network retries\n",
			sum.Chunks, sum.TasksDone, sum.Tasks, sum.Cached, sum.Examples, sum.Requests, sum.Reasked, sum.Retried)
		fmt.Fprintf(o.IO.ErrOut, "tokens in %d, out %d; %.1f s, %.2f examples/s, %.0f tokens/s out\n", sum.TokensIn, sum.TokensOut, sum.Seconds, sum.ExamplesPerS, sum.TokensOutPerS)
		printFailures(o.IO.ErrOut, sum.Failures)
	}
	if interrupted {
		return withCode(ExitInterrupted, fmt.Errorf("interrupted: %d of %d tasks done; run the same command again to finish (finished work is cached)", sum.TasksDone, sum.Tasks))
	}
	if len(sum.Failures) > 0 {
		return withCode(ExitFailure, fmt.Errorf("%d tasks failed after retries (see above); run again to retry them", len(sum.Failed)))
	}
	return nil
}
