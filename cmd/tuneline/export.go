package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/review"
)

// reviewCounts names an export's review counts: "2 rejected, 1 edited, ...".
func reviewCounts(m map[string]int) string {
	var parts []string
	for _, k := range []string{review.StateRejected, review.StateEdited, review.StateAccepted, review.StateUnreviewed, review.StateChanged} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// ExportOptions are export's inputs.
type ExportOptions struct {
	IO     *iostreams.IOStreams
	Files  []string
	Config format.Config
	format.Options
	JSON bool
	// ReviewFile is a decisions file of tuneline review to apply.
	ReviewFile string
}

// newExportCmd wires export's flags to its options; runF (nil: runExport)
// runs them, so a test can check the options without running.
func newExportCmd(ios *iostreams.IOStreams, runF func(context.Context, *ExportOptions) error) *cli.Command {
	if runF == nil {
		runF = runExport
	}
	o := &ExportOptions{IO: ios, Config: format.DefaultConfig()}
	return &cli.Command{
		Name:      "export",
		Usage:     "validate, deduplicate, split and write a dataset in a trainer's format",
		ArgsUsage: "FILE...",
		Description: `Reads the same inputs as validate, drops invalid examples, removes exact
duplicates (case-folded, white space collapsed) and near duplicates (MinHash +
LSH over word 2-grams, --near-dup threshold; 0 turns it off), splits
train/validation by a hash of each example's content and --seed (same seed,
same split, in any input order), and writes --out DIR:

` + format.Help() + `

What a format cannot hold is left out and counted, with the reason. The files
go with export-report.json: what was dropped and why (with file:line), counts
and token statistics per split. Files appear only when the export succeeds.

EXAMPLES:
   tuneline export --format openai --out out/ data.jsonl
   tuneline export --format hf --split 0.95 --seed 7 --compression zstd --out hf/ a.jsonl b.json
   tuneline export --format vertex --near-dup 0 --out vertex/ data.jsonl`,
		Flags: append(conf.Flags(&o.Config),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: strings.Join(format.Targets, " | "), Destination: &o.Target},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "export", Usage: "output `DIR`", Destination: &o.OutDir},
			&cli.StringFlag{Name: "name", Value: "tuneline", Usage: "dataset name (dataset_info.json, dataset card)", Destination: &o.Name},
			&cli.BoolFlag{Name: "json", Usage: "print export-report.json to stdout", Destination: &o.JSON},
			&cli.StringFlag{Name: "review", Usage: "apply the decisions `FILE` of tuneline review (FILE.review.jsonl): rejected examples left out, edited ones exported as edited", Destination: &o.ReviewFile},
		),
		Action: func(c *cli.Context) error {
			o.Files = c.Args().Slice()
			// Name everything missing at once, in a short usage line
			// (a missing --format printed the whole help).
			var missing []string
			if o.Target == "" {
				missing = append(missing, "--format ("+strings.Join(format.Targets, " | ")+")")
			}
			if len(o.Files) == 0 {
				missing = append(missing, "the input FILE...")
			}
			if len(missing) > 0 {
				return usageErr("export: give %s\nusage: tuneline export --format FORMAT [--out DIR] FILE...  (see tuneline export --help)", strings.Join(missing, " and "))
			}
			o.Config.Apply(&o.Options)
			return runF(c.Context, o)
		},
	}
}

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

func runExport(ctx context.Context, o *ExportOptions) error {
	if _, err := format.Lookup(o.Target); err != nil {
		return usageErr("export: --format %q: want one of %s", o.Target, strings.Join(format.Targets, ", "))
	}
	bar := newBar(o.IO, "export", totalSize(o.Files))
	opt := o.Options
	opt.Version = toolVersion()
	opt.Progress = bar.Set
	if os.Getenv("GOMEMLIMIT") == "" {
		opt.MemoryLimit = 128 << 20
	}
	if o.ReviewFile != "" {
		if _, err := os.Stat(o.ReviewFile); err != nil {
			return fmt.Errorf("export --review: %w", err)
		}
		set, err := review.Load(o.ReviewFile)
		if err != nil {
			return err
		}
		for _, w := range set.Warnings {
			fmt.Fprintln(o.IO.ErrOut, "warning: "+w)
		}
		opt.Review = set.Apply
	}
	rep, err := format.Export(ctx, o.Files, opt)
	bar.Done()
	if err != nil {
		return err
	}
	if o.JSON {
		if err := writeJSON(o.IO.Out, rep); err != nil {
			return err
		}
	} else {
		w := o.IO.Out
		fmt.Fprintf(w, "%d examples read, %d written to %s (%s)\n", rep.Read, rep.Written, o.OutDir, o.Target)
		if rep.Review != nil {
			fmt.Fprintf(w, "review: %s\n", reviewCounts(rep.Review))
		}
		for _, split := range sortedKeys(rep.Splits) {
			sr := rep.Splits[split]
			fmt.Fprintf(w, "  %-10s %7d examples  %9d tokens  %s\n", split, sr.Examples, sr.TotalTokens, strings.Join(sr.Files, ", "))
		}
		if len(rep.Dropped) > 0 {
			fmt.Fprintln(w, "dropped:")
			for _, k := range sortedKeys(rep.Dropped) {
				fmt.Fprintf(w, "  %-40s %d\n", k, rep.Dropped[k])
			}
			fmt.Fprintf(w, "details with file:line in %s/export-report.json\n", o.OutDir)
		}
		for _, l := range rep.Limits {
			mark := "ok"
			switch {
			case l.OK:
			case l.Minimum:
				mark = "TOO FEW"
			case l.Advisory:
				mark = "over (" + l.Note + ")"
			default:
				mark = "EXCEEDED"
			}
			fmt.Fprintf(w, "  limit %-60s %d / %d  %s\n", l.Name, l.Value, l.Limit, mark)
		}
	}
	if rep.Written == 0 {
		return withCode(ExitFailure, fmt.Errorf("export: no example was written: all %d read were left out (reasons above, with file:line in %s)", rep.Read, filepath.Join(o.OutDir, "export-report.json")))
	}
	if !rep.LimitsOK() {
		return withCode(ExitLimits, fmt.Errorf("export: the %s output does not meet the target's documented limits (see above)", o.Target))
	}
	return nil
}
