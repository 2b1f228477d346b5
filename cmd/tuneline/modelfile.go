package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/modelfile"
	"github.com/tuneline/tuneline/persona"
)

// SpecFlags are the flags that describe a model, shared by modelfile and
// create: a modelfile.Source.
type SpecFlags struct {
	modelfile.Source
	Params cli.StringSlice
}

func (f *SpecFlags) flags() []cli.Flag {
	return append(conf.Only(conf.Flags(&f.Config), "examples", "message-tokens"),
		&cli.StringFlag{Name: "from", Usage: "base: a model name, a local GGUF file or a safetensors folder", Destination: &f.From},
		&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Usage: "persona YAML `FILE` (its system prompt becomes SYSTEM)", Destination: &f.PersonaFile},
		&cli.StringFlag{Name: "dataset", Usage: "examples `FILE` to pick MESSAGE few-shot turns from", Destination: &f.Dataset},
		&cli.StringFlag{Name: "adapter", Usage: "LoRA adapter: GGUF file or safetensors folder", Destination: &f.Adapter},
		&cli.StringFlag{Name: "template", Usage: "TEMPLATE from `FILE`, or auto (only when a local GGUF has no chat template)", Destination: &f.Template},
		&cli.StringFlag{Name: "license", Usage: "LICENSE text from `FILE`", Destination: &f.License},
		&cli.StringSliceFlag{Name: "param", Usage: "PARAMETER `key=value` (repeatable; checked against Ollama's names)", Destination: &f.Params},
	)
}

// spec builds the model description from the flags.
func (f *SpecFlags) spec(ctx context.Context) (*modelfile.Spec, *persona.Persona, error) {
	if f.From == "" {
		return nil, nil, usageErr("--from is required (a model name, GGUF file or safetensors folder)")
	}
	f.Source.Params = f.Params.Value()
	for _, kv := range f.Source.Params {
		if !strings.Contains(kv, "=") {
			return nil, nil, usageErr("--param %q: want key=value", kv)
		}
	}
	return f.Source.Build(ctx)
}

// ModelfileOptions are modelfile's inputs.
type ModelfileOptions struct {
	IO  *iostreams.IOStreams
	Out string
	SpecFlags
}

// newModelfileCmd wires modelfile's flags to its options; runF (nil:
// runModelfile) runs them, so that a test can check the options without
// running.
func newModelfileCmd(ios *iostreams.IOStreams, runF func(context.Context, *ModelfileOptions) error) *cli.Command {
	if runF == nil {
		runF = runModelfile
	}
	o := &ModelfileOptions{IO: ios}
	o.Config = modelfile.DefaultConfig()
	return &cli.Command{
		Name:  "modelfile",
		Usage: "write an Ollama Modelfile from a base model, a persona and a dataset",
		Description: `Writes FROM, SYSTEM (the persona's system prompt), PARAMETER lines (checked against
the names and types Ollama accepts), MESSAGE few-shot turns (the best-scored, most
diverse examples of --dataset within --message-tokens), ADAPTER, LICENSE, and
TEMPLATE when asked (--template FILE) or when needed (--template auto: a local GGUF
without a chat template gets ChatML).

Every string is quoted so that Ollama's own parser reads it back exactly. The few
strings its syntax cannot hold (a line ending in """, characters the parser
drops) are refused with the offending text: use tuneline create, which sends
the fields through the API.

EXAMPLES:
   tuneline modelfile --from llama3.2 --persona persona.yaml --dataset curated.jsonl --param temperature=0.6 > Modelfile
   tuneline modelfile --from ./model.gguf --template auto --adapter ./lora.gguf --persona p.yaml --out Modelfile`,
		Flags:  append(o.SpecFlags.flags(), &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "Modelfile `PATH`", Destination: &o.Out}),
		Action: func(c *cli.Context) error { return runF(c.Context, o) },
	}
}

func runModelfile(ctx context.Context, o *ModelfileOptions) error {
	s, _, err := o.spec(ctx)
	if err != nil {
		return err
	}
	text, err := s.Render()
	if err != nil {
		return err
	}
	w, commit, abort, err := output(o.Out, o.IO.Out)
	if err != nil {
		return err
	}
	defer abort()
	if _, err := io.WriteString(w, text); err != nil {
		return err
	}
	return commit()
}

// CreateOptions are create's inputs.
type CreateOptions struct {
	IO        *iostreams.IOStreams
	Name      string
	File      string
	Batch     string
	Server    llm.Config
	CLI       bool
	OllamaBin string
	NoSmoke   bool
	JSON      bool
	SpecFlags
}

func newCreateCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &CreateOptions{IO: ios, Server: llm.DefaultConfig()}
	o.Config = modelfile.DefaultConfig()
	return &cli.Command{
		Name:      "create",
		Usage:     "create Ollama models from a persona and a dataset (one, or a batch), and smoke-test them",
		ArgsUsage: "NAME",
		Description: `Creates the model through Ollama's create API: a local GGUF file, safetensors folder
or adapter is uploaded as a blob by digest (skipped when the server already has
it), and SYSTEM, TEMPLATE, PARAMETERs and MESSAGEs go as JSON, so any persona
text survives exactly. --cli runs the ollama command on the rendered Modelfile
instead. After creating, one question is asked through /api/chat (latency and the
reply's first line); --no-smoke skips it.

--batch models.yaml creates several models with bounded parallelism:

   parallel: 2
   smoke_question: What is entropy?
   models:
     - {name: ada-llama, from: llama3.2, persona: persona.yaml, dataset: curated.jsonl, examples: 3,
        params: {temperature: "0.6"}}
   matrix:                     # bases x personas x parameter sets
     name: "{persona}-{base}-{params}"
     bases: [llama3.2, qwen2.5:7b]
     personas: [ada.yaml, bob.yaml]
     params: [{temperature: "0.3"}, {temperature: "0.9"}]

One failure does not stop the others; a table summarises them and the exit code
is the number of models that failed.

EXAMPLES:
   tuneline create ada --from llama3.2 --persona persona.yaml --dataset curated.jsonl
   tuneline create ada -f Modelfile
   tuneline create --batch models.yaml`,
		Flags: append(append(append(o.SpecFlags.flags(), conf.Only(conf.Flags(&o.Server), "host")...), conf.Only(conf.Flags(&o.Config), "smoke-question")...),
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "create from this `Modelfile`", Destination: &o.File},
			&cli.StringFlag{Name: "batch", Usage: "batch `FILE` (YAML)", Destination: &o.Batch},
			&cli.BoolFlag{Name: "cli", Usage: "use the ollama command instead of the API", Destination: &o.CLI},
			&cli.StringFlag{Name: "ollama", Value: "ollama", Usage: "ollama `BINARY` for --cli", Destination: &o.OllamaBin},
			&cli.BoolFlag{Name: "no-smoke", Usage: "do not ask the new model a question", Destination: &o.NoSmoke},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON", Destination: &o.JSON},
		),
		Action: func(c *cli.Context) error {
			if o.Batch != "" {
				if c.NArg() != 0 {
					return usageErr("create: --batch takes no NAME")
				}
				return runBatch(c.Context, o)
			}
			if c.NArg() != 1 {
				return usageErr("create: give the model NAME (see tuneline create --help)")
			}
			o.Name = c.Args().First()
			return runCreate(c.Context, o)
		},
	}
}

func (o *CreateOptions) createOptions(progress io.Writer) modelfile.CreateOptions {
	opt := modelfile.CreateOptions{NoSmoke: o.NoSmoke, Question: o.Config, Progress: progress}
	if o.CLI {
		opt.CLI = o.OllamaBin
	}
	return opt
}

func runCreate(ctx context.Context, o *CreateOptions) error {
	client, err := llm.NewOllama(o.Server.FirstHost())
	if err != nil {
		return usageErr("%v", err)
	}
	var s *modelfile.Spec
	var p *persona.Persona
	if o.File != "" {
		if s, err = modelfile.ParseFile(o.File); err != nil {
			return err
		}
		if o.PersonaFile != "" {
			if p, err = persona.Load(o.PersonaFile); err != nil {
				return err
			}
		}
	} else if s, p, err = o.spec(ctx); err != nil {
		return err
	}
	progress := o.IO.ErrOut
	if o.IO.Quiet {
		progress = io.Discard
	}
	res, err := modelfile.CreateModel(ctx, client, o.Name, s, p, o.createOptions(progress))
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, res)
	}
	printResults(o.IO.Out, []row{{name: o.Name, base: s.From, res: res}})
	if res.Smoke != nil && !res.Smoke.OK {
		return withCode(ExitFailure, fmt.Errorf("created %s, but the smoke test failed: %s", o.Name, res.Smoke.Error))
	}
	return nil
}

type row struct {
	name, base string
	res        *modelfile.Result
	err        error
}

func printResults(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tBASE\tDIGEST\tSIZE\tSECONDS\tSMOKE")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\tFAILED: %v\n", r.name, r.base, r.err)
			continue
		}
		d := strings.TrimPrefix(r.res.Digest, "sha256:")
		if len(d) > 12 {
			d = d[:12]
		}
		smoke := "skipped"
		if sm := r.res.Smoke; sm != nil {
			if sm.OK {
				smoke = fmt.Sprintf("ok %.1fs: %s", sm.Seconds, sm.FirstLine)
			} else {
				smoke = "FAILED: " + sm.Error
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f MB\t%.1f\t%s\n", r.name, r.base, d, float64(r.res.Size)/1e6, r.res.Seconds, smoke)
	}
	tw.Flush()
}

func runBatch(ctx context.Context, o *CreateOptions) error {
	bt, entries, err := modelfile.LoadBatch(o.Batch)
	if err != nil {
		return err
	}
	client, err := llm.NewOllama(o.Server.FirstHost())
	if err != nil {
		return usageErr("%v", err)
	}
	if o.Config.SmokeQuestion == "" {
		o.Config.SmokeQuestion = bt.Smoke
	}
	results := modelfile.CreateBatch(ctx, client, entries, bt.Parallel, o.createOptions(nil), func(r modelfile.BatchResult) {
		if r.Err != nil {
			fmt.Fprintf(o.IO.ErrOut, "%s: failed: %v\n", r.Name, r.Err)
		} else if !o.IO.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "%s: created\n", r.Name)
		}
	})
	failed := 0
	rows := make([]row, len(results))
	for i, r := range results {
		rows[i] = row{name: r.Name, base: r.Base, res: r.Result, err: r.Err}
		if r.Err != nil {
			failed++
		}
	}
	if o.JSON {
		writeJSON(o.IO.Out, results)
	} else {
		printResults(o.IO.Out, rows)
	}
	if failed > 0 {
		return withCode(min(failed, 125), fmt.Errorf("%d of %d models failed", failed, len(rows)))
	}
	return nil
}
