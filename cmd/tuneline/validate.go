package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/progress"
)

// ValidateOptions are validate's inputs.
type ValidateOptions struct {
	IO        *iostreams.IOStreams
	Files     []string
	MaxTokens int
	JSON      bool
	MaxIssues int
	Warnings  bool
}

// newValidateCmd wires validate's flags to its options; runF (nil: runValidate)
// runs them, so a test can check the options without running.
func newValidateCmd(ios *iostreams.IOStreams, runF func(context.Context, *ValidateOptions) error) *cli.Command {
	if runF == nil {
		runF = runValidate
	}
	o := &ValidateOptions{IO: ios}
	return &cli.Command{
		Name:      "validate",
		Usage:     "check chat datasets and print statistics",
		ArgsUsage: "FILE...",
		Description: `Reads JSONL or JSON-array files ("-" is stdin) in any shape tuneline knows —
OpenAI messages, ShareGPT conversations, Alpaca instruction/output, Vertex Gemini
contents, interaction logs — and checks every example: valid JSON and UTF-8,
known roles, system only first, user and assistant alternate, ends with the
assistant, no empty content, no duplicate ids, tokens (cl100k_base, counted as
the OpenAI cookbook does) over --max-tokens.

Prints counts per error and warning category, each problem as file:line, the
distributions of messages and tokens per example, and the billable-token
estimate. Tool calls, preference pairs (DPO/KTO) and images are refused with
the reason, never dropped silently.

EXAMPLES:
   tuneline validate train.jsonl
   tuneline validate --json data/*.jsonl | jq .errors
   cat train.jsonl | tuneline validate -

Exit code 1 when any example has an error (warnings do not count).`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "max-tokens", Value: 4096, Usage: "flag examples longer than this many tokens", Destination: &o.MaxTokens},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON", Destination: &o.JSON},
			&cli.IntFlag{Name: "max-issues", Value: 50, Usage: "list at most this many problems (0: all)", Destination: &o.MaxIssues},
			&cli.BoolFlag{Name: "warnings", Aliases: []string{"w"}, Usage: "list warnings too, not only errors", Destination: &o.Warnings},
		},
		Action: func(c *cli.Context) error {
			o.Files = c.Args().Slice()
			if len(o.Files) == 0 {
				return usageErr("validate: no files given (see tuneline validate --help)")
			}
			return runF(c.Context, o)
		},
	}
}

func newBar(ios *iostreams.IOStreams, label string, total int64) *progress.Bar {
	return progress.New(ios.ErrOut, progress.Options{Label: label, Total: total, Bytes: true, Live: ios.StderrTTY, Off: ios.Quiet})
}

func runValidate(ctx context.Context, o *ValidateOptions) error {
	bar := newBar(o.IO, "validate", totalSize(o.Files))
	s, err := format.Validate(ctx, o.Files, format.ScanOptions{MaxTokens: o.MaxTokens, Progress: bar.Set})
	bar.Done()
	if err != nil {
		return err
	}
	if o.JSON {
		if err := writeJSON(o.IO.Out, s); err != nil {
			return err
		}
	} else {
		printSummary(o.IO.Out, &s, o.MaxIssues, o.Warnings)
	}
	if s.Invalid > 0 {
		return withCode(ExitFailure, fmt.Errorf("%d of %d examples have errors", s.Invalid, s.Examples))
	}
	return nil
}

func printSummary(w io.Writer, s *format.Summary, maxIssues int, warnings bool) {
	fmt.Fprintf(w, "%d examples", s.Examples)
	if len(s.Formats) > 0 {
		fmt.Fprintf(w, " (%s)", countsInline(s.Formats))
	}
	fmt.Fprintf(w, ": %d valid, %d with errors\n", s.Valid, s.Invalid)
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			fmt.Fprintf(w, "\n%s: none\n", title)
			return
		}
		fmt.Fprintf(w, "\n%s (examples):\n", title)
		for _, k := range sortedKeys(m) {
			fmt.Fprintf(w, "  %-32s %d\n", k, m[k])
		}
	}
	section("Errors", s.Errors)
	section("Warnings", s.Warnings)
	listed := 0
	for _, is := range s.Issues {
		if is.Severity == format.SevWarning && !warnings {
			continue
		}
		if maxIssues > 0 && listed == maxIssues {
			fmt.Fprintf(w, "  ... more (use --max-issues 0 or --json)\n")
			break
		}
		if listed == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "  %s\n", is)
		listed++
	}
	dist := func(name string, d format.Distribution) {
		fmt.Fprintf(w, "  %-30s min %d, max %d, mean %.1f, median %.1f, p5 %.1f, p95 %.1f\n", name, d.Min, d.Max, d.Mean, d.Median, d.P5, d.P95)
	}
	fmt.Fprintln(w, "\nDistributions:")
	dist("messages per example", s.MessagesPerExample)
	dist("tokens per example", s.TokensPerExample)
	dist("assistant tokens per example", s.AssistantTokens)
	fmt.Fprintf(w, "\n%d examples over %d tokens (they will be truncated in training)\n", s.OverMaxTokens, s.MaxTokens)
	fmt.Fprintf(w, "%d billable tokens per epoch; by default %d epochs: ~%d tokens charged\n", s.BillableTokens, s.Epochs, s.ChargedTokens)
}

func countsInline(m map[string]int) string {
	out := ""
	for i, k := range sortedKeys(m) {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
