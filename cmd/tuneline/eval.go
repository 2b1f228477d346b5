package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/eval"
	"github.com/tuneline/tuneline/internal/cachedir"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
	"github.com/tuneline/tuneline/pipelines"
)

// defaultQuestions is the validation split the export of the workspace in
// the current folder writes (honouring its build: setting), or the default
// layout's when the folder holds no tuneline.yaml.
func defaultQuestions() (string, error) {
	if _, err := os.Stat("tuneline.yaml"); err != nil {
		d := pipelines.DefaultConfig()
		return d.Layout().Questions(), nil
	}
	cfg, err := pipelines.Load(".")
	if err != nil {
		return "", err
	}
	return cfg.Layout().Questions(), nil
}

// EvalOptions are eval's inputs.
type EvalOptions struct {
	IO          *iostreams.IOStreams
	Models      cli.StringSlice
	Baseline    string
	PersonaFile string
	Questions   string
	Server      llm.Config
	Config      eval.Config
	JSON        bool
	Side        bool
	eval.Options
}

// newEvalCmd wires eval's flags to its options; runF (nil: runEval) runs
// them, so that a test can check the options without running.
func newEvalCmd(ios *iostreams.IOStreams, runF func(context.Context, *EvalOptions) error) *cli.Command {
	if runF == nil {
		runF = runEval
	}
	o := &EvalOptions{IO: ios, Server: llm.DefaultConfig(), Config: eval.DefaultConfig()}
	return &cli.Command{
		Name:  "eval",
		Usage: "ask held-out questions of built models and a prompt-engineered baseline; judge persona and grounding",
		Description: `Asks every --model the questions (user/assistant examples: the validation split
tuneline export wrote: by default the validation split of the OpenAI export of
the workspace in the current folder, under its build: folder), and with
--baseline BASE also the base model with the persona as its system prompt — the
prompt-engineering approach to compare fine-tuning against. A judge model scores
each reply 1-5 for persona consistency, accuracy against the reference answer and
grounding, and says whether it broke character; reply length, refusals and
latency are measured too. Prints per-model means with 95% confidence intervals;
--side shows the replies side by side; --json everything. Replies and judgements
are cached like synth's.

EXAMPLES:
   tuneline eval --model ada-physics --baseline llama3.2 --persona persona.yaml --judge llama3.2
   tuneline eval --model a --model b --questions held-out.jsonl --json > eval.json`,
		Flags: append(append(conf.Without(conf.Flags(&o.Server), "model"), conf.Flags(&o.Config)...),
			&cli.StringSliceFlag{Name: "model", Aliases: []string{"m"}, Usage: "model to evaluate (repeatable)", Destination: &o.Models},
			&cli.StringFlag{Name: "baseline", Usage: "base `MODEL` asked with the persona as system prompt", Destination: &o.Baseline},
			&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Usage: "persona YAML `FILE`", Destination: &o.PersonaFile},
			&cli.StringFlag{Name: "questions", Usage: "questions `FILE` (examples JSONL; default: the validation split of this folder's workspace, BUILD/export/openai/validation.jsonl)", Destination: &o.Questions},
			&cli.StringFlag{Name: "cache", Value: cachedir.Replies("eval"), Usage: "cache `DIR`", Destination: &o.CacheDir},
			&cli.BoolFlag{Name: "side", Usage: "print the replies side by side", Destination: &o.Side},
			&cli.BoolFlag{Name: "json", Usage: "print the whole report as JSON", Destination: &o.JSON},
		),
		Action: func(c *cli.Context) error {
			if len(o.Models.Value()) == 0 && o.Baseline == "" {
				return usageErr("eval: give at least one --model or a --baseline")
			}
			if o.Baseline != "" && o.PersonaFile == "" {
				return usageErr("eval: --baseline needs --persona (its system prompt)")
			}
			return runF(c.Context, o)
		},
	}
}

// plan sets the options eval.Run takes from the flags (the same
// assembly as the workspace's eval stage: eval.Config.Plan) and returns
// the targets; only the cache folder is the command's own.
func (o *EvalOptions) plan(b llm.Backend) []eval.Target {
	targets, opt := o.Config.Plan(o.Server, o.Models.Value(), o.Baseline, o.Persona, b)
	opt.CacheDir = o.CacheDir
	o.Options = opt
	return targets
}

func runEval(ctx context.Context, o *EvalOptions) error {
	var err error
	if o.PersonaFile != "" {
		if o.Persona, err = persona.Load(o.PersonaFile); err != nil {
			return err
		}
	}
	pool, err := backendFor(o.Server)
	if err != nil {
		return err
	}
	defer pool.Close()
	if o.Questions == "" {
		if o.Questions, err = defaultQuestions(); err != nil {
			return err
		}
		if _, err := os.Stat(o.Questions); err != nil {
			return usageErr("eval: no questions at %s: run eval in a workspace that has been exported, or give --questions FILE (held-out examples)", o.Questions)
		}
	}
	qs, err := eval.LoadQuestions(ctx, o.Questions, o.Config.Questions)
	if err != nil {
		return err
	}
	targets := o.plan(pool)
	ctx, bar, stopBar := modelProgress(ctx, o.IO, "eval answers", 0, pool)
	defer stopBar()
	o.Options.Progress = func(done, total int) {
		bar.SetTotal(int64(total))
		bar.Set(int64(done))
	}
	rep, err := eval.Run(ctx, qs, targets, o.Options)
	bar.Done()
	if err != nil {
		return err
	}
	if o.JSON {
		return printJSON(o.IO, rep)
	}
	w := o.IO.Out
	fmt.Fprintf(w, "%d questions, judge %s\n", len(qs), rep.Judge)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPERSONA\tACCURACY\tGROUNDING\tBROKE CHARACTER\tREFUSALS\tLATENCY s\tLENGTH\tERRORS")
	f := func(s eval.Stat) string { return fmt.Sprintf("%.2f ± %.2f", s.Mean, s.CI95) }
	for _, s := range rep.Summaries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t%.0f%%\t%.2f\t%.0f\t%d\n", s.Target, f(s.Persona), f(s.Accuracy), f(s.Grounding),
			100*s.BrokeCharacter, 100*s.RefusalRate, s.Latency.Mean, s.Length.Mean, s.Errors)
	}
	tw.Flush()
	if o.Side {
		byQ := map[string][]eval.Answer{}
		for _, a := range rep.Answers {
			byQ[a.Question] = append(byQ[a.Question], a)
		}
		for _, q := range qs {
			fmt.Fprintf(w, "\nQ: %s\n   reference: %s\n", q.Question, q.Reference)
			for _, a := range byQ[q.ID] {
				fmt.Fprintf(w, "   %s [persona %d, accuracy %d, grounding %d]: %s\n", a.Target, a.Judgement.Persona, a.Judgement.Accuracy, a.Judgement.Grounding, a.Reply)
			}
		}
	}
	return nil
}
