package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/bucket"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/progress"
)

// IngestOptions are ingest's inputs.
type IngestOptions struct {
	IO       *iostreams.IOStreams
	Sources  []string
	Out      string
	Examples string
	Emit     string
	ingest.Config
	JSON     bool
	GoodOnly bool
	Shard    string
}

// newIngestCmd wires ingest's flags to its options; runF (nil: runIngest)
// runs them, so a test can check the options without running.
func newIngestCmd(ios *iostreams.IOStreams, runF func(context.Context, *IngestOptions) error) *cli.Command {
	if runF == nil {
		runF = runIngest
	}
	o := &IngestOptions{IO: ios, Config: ingest.DefaultConfig()}
	return &cli.Command{
		Name:      "ingest",
		Usage:     "extract clean, chunked text with provenance from PDFs, web pages, DOCX, EPUB, transcripts and chat logs",
		ArgsUsage: "SOURCE...",
		Description: `SOURCE is a file, a directory (walked recursively, hidden entries skipped; symbolic
links, pipes and devices in it skipped and counted), a glob, an http(s) URL or "-" (stdin).
The kind is detected from the content, not the name:

   PDF           text rebuilt from glyph positions: words, lines, paragraphs, two columns,
                 hyphenation joined, running headers and page numbers dropped; page numbers kept
   HTML / URL    title and main content (no navigation, ads, comments, footers)
   DOCX, EPUB    headings as sections, lists and tables as text, footnotes kept; EPUB
                 chapters in reading order
   WebVTT, SRT,  cues merged into sentences and paragraphs, markup removed, YouTube rolling
   SBV           captions collapsed; speaker and start/end time kept
   transcript    plain text with "Speaker: text" turns
   Markdown/text headings become sections
   chat logs     any shape validate reads, or {"timestamp","query","response"} lines:
                 these become examples (--examples FILE), not chunks

Chunks are JSON Lines: id (content hash), doc_id, seq, source (and source_raw, its bytes in
base64, when the name is not UTF-8), kind, title, section, page_start/page_end or
time_start/time_end, speaker, tokens (cl100k), text. They end at
sentence boundaries when they can and never cross a section. Re-ingesting unchanged
sources gives the same ids. Sources are processed in parallel; one that fails is
reported with its reason and the run goes on (exit code 1 at the end).

EXAMPLES:
   tuneline ingest --out chunks.jsonl papers/ lectures/*.vtt https://example.org/article
   tuneline ingest --emit text book.pdf > book.txt
   tuneline ingest --examples sessions.jsonl --out chunks.jsonl sources/ logs/chat.jsonl
   tuneline ingest --shard 2/8 --out chunks-2.jsonl /shared/books/   # machine 2 of 8`,
		Flags: append(conf.Flags(&o.Config),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "chunks (or texts) `FILE`; - is stdout", Destination: &o.Out},
			&cli.StringFlag{Name: "examples", Usage: "write chat logs' conversations as examples to `FILE`", Destination: &o.Examples},
			&cli.StringFlag{Name: "emit", Value: "chunks", Usage: "chunks | text (each document's clean text)", Destination: &o.Emit},
			&cli.BoolFlag{Name: "good-only", Usage: "from chat logs, keep only the turns rated good (tuneline chat's /good)", Destination: &o.GoodOnly},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON (to stdout when --out is a file, else stderr)", Destination: &o.JSON},
			&cli.StringFlag{Name: "shard", Usage: "ingest part `K/N` of the sources (by a hash of each path or URL), for N machines: --shard $JOB_COMPLETION_INDEX/N", Destination: &o.Shard},
		),
		Action: func(c *cli.Context) error {
			o.Sources = c.Args().Slice()
			if len(o.Sources) == 0 {
				return usageErr("ingest: no sources given (see tuneline ingest --help)")
			}
			if o.Emit != "chunks" && o.Emit != "text" {
				return usageErr("ingest: --emit %q: want chunks or text", o.Emit)
			}
			return runF(c.Context, o)
		},
	}
}

// output opens path for writing ("-" is w) atomically.
func output(path string, w io.Writer) (io.Writer, func() error, func(), error) {
	if path == "-" || path == "" {
		return w, func() error { return nil }, func() {}, nil
	}
	if bucket.IsURL(path) {
		return bucketOutput(path)
	}
	f, err := datasets.CreateAtomic(path)
	if err != nil {
		return nil, nil, nil, err
	}
	return f, f.Commit, f.Abort, nil
}

func runIngest(ctx context.Context, o *IngestOptions) error {
	// --out X --examples X lost the chunks silently.
	if err := distinctOutputs([][2]string{{"out", o.Out}, {"examples", o.Examples}}, o.Sources); err != nil {
		return err
	}
	chunks, commit, abort, err := output(o.Out, o.IO.Out)
	if err != nil {
		return err
	}
	defer abort()
	out := &ingest.JSONOutput{Chunks: chunks}
	var commitEx func() error
	if o.Examples != "" {
		ex, c, a, err := output(o.Examples, o.IO.Out)
		if err != nil {
			return err
		}
		defer a()
		out.Examples, commitEx = ex, c
	}
	bar := progress.New(o.IO.ErrOut, progress.Options{Label: "ingest", Live: o.IO.StderrTTY, Off: o.IO.Quiet})
	opt := ingest.Options{EmitText: o.Emit == "text", GoodOnly: o.GoodOnly, Progress: func(done, total int) { bar.Set(int64(done)) }}
	o.Config.Apply(&opt)
	if o.Shard != "" {
		if opt.Shard, err = ingest.ParseShard(o.Shard); err != nil {
			return usageErr("ingest: %v", err)
		}
	}
	defer o.Config.SoftMemoryLimit()()
	sum, err := ingest.Run(ctx, o.Sources, opt, out)
	bar.Done()
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	if commitEx != nil {
		if err := commitEx(); err != nil {
			return err
		}
	}
	so := summaryOut(o.IO, o.Out)
	if o.JSON {
		if err := writeJSON(so, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.IO.ErrOut, "%d documents (%s), %d pages, %d chunks, %d tokens, %d examples\n",
			sum.Documents, countsInline(sum.Kinds), sum.Pages, sum.Chunks, sum.Tokens, sum.Examples)
		for _, r := range sum.Sources {
			for _, w := range r.Warnings {
				fmt.Fprintf(o.IO.ErrOut, "  warning: %s: %s\n", ingest.Quote(r.Source), ingest.Escape(w))
			}
		}
		printSkipped(o.IO.ErrOut, sum.Skipped)
		var failed []string
		for s := range sum.Errors {
			failed = append(failed, s)
		}
		sort.Strings(failed)
		for _, s := range failed {
			fmt.Fprintf(o.IO.ErrOut, "  error: %s: %s\n", ingest.Quote(s), ingest.Escape(sum.Errors[s]))
		}
	}
	if len(sum.Errors) > 0 {
		return withCode(ExitFailure, fmt.Errorf("%d of %d sources failed", len(sum.Errors), len(sum.Sources)))
	}
	return nil
}

// printSkipped counts the folder entries left out by reason, and names the
// first few (--json lists them all).
func printSkipped(w io.Writer, skipped []ingest.Skip) {
	if len(skipped) == 0 {
		return
	}
	by := map[string]int{}
	for _, s := range skipped {
		by[s.Reason]++
	}
	var reasons []string
	for r, n := range by {
		noun := strings.TrimPrefix(r, "a ")
		if n > 1 && noun != r {
			noun += "s"
		}
		reasons = append(reasons, fmt.Sprintf("%d %s", n, noun))
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "  skipped %d entries of folders that are not regular files (%s); give a file itself to read it\n", len(skipped), strings.Join(reasons, ", "))
	const shown = 10
	for _, s := range skipped[:min(len(skipped), shown)] {
		fmt.Fprintf(w, "  skipped: %s: %s\n", ingest.Quote(s.Path), s.Reason)
	}
	if len(skipped) > shown {
		fmt.Fprintf(w, "  ... and %d more (--json lists them)\n", len(skipped)-shown)
	}
}
