package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/envconfig"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/setting"
	"github.com/tuneline/tuneline/pipelines"
)

// Exit codes (documented in the README and in --help).
const (
	ExitOK          = 0
	ExitFailure     = 1 // errors in the data (validate), or the command failed
	ExitUsage       = 2 // bad flags or arguments
	ExitLimits      = 3 // export: files written, but the target's documented limits are exceeded
	ExitInterrupted = 130
)

const exitCodesHelp = `EXIT CODES:
   0    success
   1    the data has errors (validate), or the command failed
   2    usage error: unknown flag, missing argument
   3    export: files were written but exceed the target's documented limits
   N    create --batch: N models failed (the others were created)
   130  interrupted (Ctrl-C); finished outputs are kept, partial ones removed`

// version is set with -ldflags "-X main.version=..."; otherwise it comes
// from the build info (see buildVersion).
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return buildVersion(bi.Main.Version, bi.Settings)
}

// buildVersion names a build: the module version when the binary was built
// from a published module (go install MODULE@VERSION), else the VCS
// revision, its commit time and "dirty" when the checkout had uncommitted
// changes (go build in a clone), else "devel" (no VCS stamp: go run, or
// -buildvcs=false).
func buildVersion(mainVersion string, settings []debug.BuildSetting) string {
	vcs := map[string]string{}
	for _, s := range settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if mainVersion != "" && mainVersion != "(devel)" && !strings.Contains(mainVersion, "+dirty") {
		// A release, or a pseudo-version that already names the commit.
		return mainVersion
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel " + rev
	if t := vcs["vcs.time"]; t != "" {
		v += " " + t
	}
	if vcs["vcs.modified"] == "true" {
		v += " dirty"
	}
	return v
}

// exitError carries an exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code, err} }

func usageErr(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// newApp wires every command. Each command has an options struct, a
// constructor that binds flags to it and a run function that takes the
// options, so commands are tested without a shell.
func newApp(ios *iostreams.IOStreams) *cli.App {
	app := &cli.App{
		Name:    "tuneline",
		Usage:   "turn raw sources into fine-tuning datasets and custom Ollama models",
		Version: toolVersion(),
		Description: `tuneline does the whole path from sources to a model as staged, resumable commands:

   init      scaffold a workspace (tuneline.yaml, persona.yaml, sources/)
   run       run a workspace: ` + strings.Join(pipelines.Stages, ", ") + `; redo only what changed
   validate  check chat datasets (OpenAI messages, ShareGPT, Alpaca, Vertex) and print statistics
   ingest    extract chunked text with provenance from PDFs, web pages, transcripts, chat logs
   synth     generate persona Q&A and conversations from chunks with a local model (Ollama)
   curate    score examples with an LLM judge (accuracy, grounding, persona, clarity) and filter
   export    validate, deduplicate, split and write ` + strings.Join(format.Targets, " | ") + `
   review    accept, reject and edit examples in the browser; run and export --review honour it
   publish   push an export to a Hugging Face Hub dataset repo or a gs:// bucket
   tune      run a fine-tuning job on OpenAI or Vertex AI from an export, and follow it
   modelfile write an Ollama Modelfile (FROM, SYSTEM, PARAMETER, MESSAGE, ADAPTER, LICENSE, TEMPLATE)
   create    create Ollama models (one or a batch) through the API, and smoke-test them
   datasets  list, show (lineage), stats (coverage, scores), diff a workspace's datasets
   report    write a workspace's self-contained HTML report with charts
   eval      compare built models with a prompt-engineered baseline on held-out questions
   chat      chat with memory (facts and past turns retrieved into the prompt); logs become examples

Data goes to stdout, progress and logs to stderr; --json where output is scripted.

` + exitCodesHelp + `

ENVIRONMENT:
` + envconfig.Help(),
		Reader:                 ios.In,
		Writer:                 ios.Out,
		ErrWriter:              ios.ErrOut,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		HideHelpCommand:        true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"},
		},
		Before: func(c *cli.Context) error {
			ios.Quiet = c.Bool("quiet")
			return nil
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErr("%v (see tuneline --help)", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // Run maps errors to exit codes
		// A repeatable flag is repeated, never split on commas: a file
		// name (--chunks, --batch-in) or a PARAMETER value may hold one.
		DisableSliceFlagSeparator: true,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			name := c.Args().First()
			var names []string
			for _, cmd := range c.App.Commands {
				names = append(names, cmd.Name)
			}
			if s := conf.Nearest(name, names, 2); s != "" {
				return usageErr("unknown command %q; did you mean %q? (see tuneline --help)", name, s)
			}
			return usageErr("unknown command %q (commands: %s)", name, strings.Join(names, ", "))
		},
		Commands: []*cli.Command{
			newInitCmd(ios),
			newRunCmd(ios, nil),
			newValidateCmd(ios, nil),
			newExportCmd(ios, nil),
			newIngestCmd(ios, nil),
			newSynthCmd(ios, nil),
			newCurateCmd(ios, nil),
			newModelfileCmd(ios, nil),
			newCreateCmd(ios),
			newDatasetsCmd(ios),
			newReportCmd(ios),
			newReviewCmd(ios),
			newEvalCmd(ios, nil),
			newTuneCmd(ios),
			newChatCmd(ios, nil),
			newPublishCmd(ios),
			newCompletionCmd(ios),
		},
	}
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			name := c.Name
			c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
				return usageErr("%v (see tuneline %s --help)", err, name)
			}
		}
	}
	return app
}

// Run runs the CLI and returns the exit code.
func Run(ctx context.Context, args []string, ios *iostreams.IOStreams) int {
	app := newApp(ios)
	err := app.RunContext(ctx, interspersed(app, args))
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *exitError
	var ce cli.ExitCoder
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ce):
		code = ce.ExitCode()
	case ctx.Err() != nil:
		code = ExitInterrupted
	case strings.HasPrefix(err.Error(), "flag provided but not defined"),
		strings.Contains(err.Error(), "Required flag"):
		code = ExitUsage
	}
	if msg := setting.AsFlag(err).Error(); msg != "" {
		fmt.Fprintln(ios.ErrOut, "tuneline: "+msg)
	}
	return code
}

// writeJSON prints v as indented JSON.
// printFailures lists failure counts by cause, in the order of the causes.
func printFailures(w io.Writer, failures map[string]int) {
	for _, c := range slices.Sorted(maps.Keys(failures)) {
		fmt.Fprintf(w, "  failed (%s): %d\n", c, failures[c])
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// summaryOut is where a command's summary goes: stdout when its data went
// to a file, stderr when the data itself is on stdout.
func summaryOut(ios *iostreams.IOStreams, out string) io.Writer {
	if out != "-" && out != "" {
		return ios.Out
	}
	return ios.ErrOut
}
