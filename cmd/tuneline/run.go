package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/progress"
	"github.com/tuneline/tuneline/internal/setting"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/pipelines"
)

func newInitCmd(ios *iostreams.IOStreams) *cli.Command {
	var opt pipelines.InitOptions
	return &cli.Command{
		Name:      "init",
		Usage:     "scaffold a workspace: tuneline.yaml, persona.yaml and sources/",
		ArgsUsage: "DIR",
		Description: `Writes a workspace: tuneline.yaml with every setting at its default and a
comment that explains it (the same settings are the stage commands' flags),
persona.yaml, and sources/. Put your sources in DIR/sources, edit persona.yaml,
then run: tuneline run DIR

EXAMPLES:
   tuneline init my-expert
   tuneline init --name support-bot --model qwen2.5:7b --persona-name "Sam from support" support/`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "workspace and model `NAME` (default: the folder's name)", Destination: &opt.Name},
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model to generate with and build on (default: llama3.2)", Destination: &opt.Model},
			&cli.StringFlag{Name: "persona-name", Usage: "who the model speaks as (default: a placeholder in persona.yaml)", Destination: &opt.PersonaName},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("init: give the workspace DIR")
			}
			files, err := pipelines.Init(c.Args().First(), opt)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(ios.Out, f)
			}
			fmt.Fprintf(ios.ErrOut, "next: put sources in %s/sources, edit persona.yaml, then tuneline run %s\n", c.Args().First(), c.Args().First())
			return nil
		},
	}
}

// RunOptions are run's inputs.
type RunOptions struct {
	IO   *iostreams.IOStreams
	Path string
	JSON bool
	pipelines.Options
}

// newRunCmd wires run's flags to its options; runF (nil: runRun) runs
// them, so that a test can check the options without running.
func newRunCmd(ios *iostreams.IOStreams, runF func(context.Context, *RunOptions) error) *cli.Command {
	if runF == nil {
		runF = runRun
	}
	o := &RunOptions{IO: ios}
	return &cli.Command{
		Name:      "run",
		Usage:     "run a workspace's pipeline: " + strings.Join(pipelines.Stages, ", ") + " — redoing only what changed",
		ArgsUsage: "[DIR|tuneline.yaml]",
		Description: `Runs the stages of the workspace (default: the current folder) in order, with
outputs under build/ and a manifest (build/manifest.json) recording each stage's
input hashes, parameters, outputs and the tool version (recorded only: another
build of tuneline does not redo a stage). A stage whose inputs, parameters and
outputs are unchanged is skipped, and says why; changing one source
re-ingests only that source and the synth cache regenerates only its chunks'
examples. A failed stage leaves the earlier stages' outputs in place and the
next run starts from it.

Without a reachable Ollama that has the configured model, tuneline starts its
own with a tiny random-weight model (ollama.local: auto) and says loudly that the
generated text is gibberish.

Exit codes: 0 done; 1 a stage failed (earlier outputs are kept), or sources
could not be read (the stages ran on the rest; the failures are listed);
130 interrupted (the next run resumes).

EXAMPLES:
   tuneline run examples/physics-expert
   tuneline run --dry-run              # the plan and why each stage would run
   tuneline run --from export --force  # redo export and every stage after it
   tuneline run --only synth --force`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "start at `STAGE` (" + strings.Join(pipelines.Stages, ", ") + ")", Destination: &o.From},
			&cli.StringFlag{Name: "only", Usage: "run only `STAGE`", Destination: &o.Only},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print the plan and why each stage would run", Destination: &o.DryRun},
			&cli.BoolFlag{Name: "force", Usage: "run the selected stages even when up to date", Destination: &o.Force},
			&cli.BoolFlag{Name: "json", Usage: "print the stage table as JSON", Destination: &o.JSON},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every stage's inputs and their hashes", Destination: &o.Verbose},
		},
		Action: func(c *cli.Context) error {
			o.Path = "."
			if c.NArg() > 1 {
				return usageErr("run: one workspace at a time")
			}
			if c.NArg() == 1 {
				o.Path = c.Args().First()
			}
			return runF(c.Context, o)
		},
	}
}

func runRun(ctx context.Context, o *RunOptions) error {
	cfg, err := pipelines.Load(o.Path)
	if err != nil {
		return err
	}
	o.Version = toolVersion()
	bars := progress.NewStages(o.IO.ErrOut, progress.Options{Live: o.IO.StderrTTY, Off: o.IO.Quiet}, func(stage string) string {
		idx := 0
		for i, st := range pipelines.Stages {
			if st == stage {
				idx = i + 1
			}
		}
		if idx == 0 {
			return stage // a step between stages (readying Ollama)
		}
		return fmt.Sprintf("[%d/%d] %s", idx, len(pipelines.Stages), stage)
	})
	// Log lines go through the bars, so that a stage's last
	// progress line comes before its "done" line.
	o.Log = bars.Log()
	o.Progress = func(stage string, done, total int) { bars.Set(stage, int64(done), int64(total)) }
	act := llm.NewActivity()
	bars.SetNote(act.Note) // tokens streaming and the last retry, on every line
	stop := make(chan struct{})
	go bars.Heartbeat(time.Second, stop)
	res, err := pipelines.Run(llm.WithActivity(ctx, act), cfg, o.Options)
	close(stop)
	bars.Done()
	if res != nil {
		if o.JSON {
			writeJSON(o.IO.Out, res)
		} else {
			tw := tabwriter.NewWriter(o.IO.Out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STAGE\tACTION\tSECONDS\tWHY\tSUMMARY")
			for _, s := range res.Stages {
				fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\n", s.Stage, s.Action, s.Seconds, s.Reason, s.Summary)
			}
			tw.Flush()
			if res.Gibberish {
				fmt.Fprintf(o.IO.Out, "\nNOTE: generated with tuneline's tiny random-weight model: the examples are gibberish.\n")
			}
			var partial *pipelines.PartialError
			if (err == nil || errors.As(err, &partial)) && !o.DryRun {
				if steps := pipelines.NextSteps(cfg); len(steps) > 0 {
					fmt.Fprintln(o.IO.Out)
					for _, l := range steps {
						fmt.Fprintln(o.IO.Out, l)
					}
				}
			}
		}
	}
	return setting.AsKey(err) // a setting is named as tuneline.yaml's key
}

func newReportCmd(ios *iostreams.IOStreams) *cli.Command {
	var out string
	return &cli.Command{
		Name:      "report",
		Usage:     "write a workspace's self-contained HTML report (charts need no network)",
		ArgsUsage: "[DIR]",
		Description: `Token-length histogram, examples per source, question types, score distributions,
the drop funnel (generated -> judged -> valid -> no exact duplicates -> no near
duplicates) and source coverage (which documents, pages and time ranges produced
no example). tuneline run writes it too, to build/report.html.`,
		Flags: []cli.Flag{&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "`FILE` (default build/report.html)", Destination: &out}},
		Action: func(c *cli.Context) error {
			dir := "."
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			cfg, err := pipelines.Load(dir)
			if err != nil {
				return err
			}
			if out == "" {
				out = pipelines.ReportPath(cfg)
			}
			if err := pipelines.WriteReport(c.Context, cfg, out, toolVersion()); err != nil {
				return err
			}
			fmt.Fprintln(ios.Out, out)
			return nil
		},
	}
}
