package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/memory"
	"github.com/tuneline/tuneline/persona"
)

// ChatOptions are chat's inputs.
type ChatOptions struct {
	IO          *iostreams.IOStreams
	Model       string
	PersonaFile string
	MemoryDir   string
	FactsFile   string
	Ask         string
	Rate        string
	Server      llm.Config
	Recall      int
	MaxTokens   int
	Rebuild     bool
}

// newChatCmd wires chat's flags to its options; runF (nil: runChat)
// runs them, so a test can check the options without running.
func newChatCmd(ios *iostreams.IOStreams, runF func(context.Context, *ChatOptions) error) *cli.Command {
	if runF == nil {
		runF = runChat
	}
	o := &ChatOptions{IO: ios, Server: llm.DefaultConfig()}
	return &cli.Command{
		Name:      "chat",
		Usage:     "chat with a model that remembers: facts and past interactions retrieved into the prompt",
		ArgsUsage: "MODEL",
		Description: `An interactive chat (or one question with --ask) with memory. Facts (/fact topic
key=value, or a --facts YAML of topic: {key: value}) and every past interaction are
kept in --memory DIR (memory.db, one file; several processes may use it, writers
take turns). For each question the most relevant facts and past turns (BM25) go
into the system prompt after the persona. Every interaction is appended to
DIR/interactions.jsonl, which tuneline ingest reads back as examples;
/good or /bad rates the last turn (tuneline ingest --good-only keeps the good ones).

Commands: /fact TOPIC KEY=VALUE, /facts, /good, /bad, /quit.

A damaged memory.db is reported, never read blindly; --rebuild-memory makes a new
one from interactions.jsonl (the old one is kept as memory.db.damaged; facts are
not in the log: load them again with --facts).

EXAMPLES:
   tuneline chat ada-physics --persona persona.yaml --memory memory/
   tuneline chat ada-physics --memory memory/ --ask "What did we say about entropy?"
   tuneline ingest --good-only --examples new-examples.jsonl memory/interactions.jsonl`,
		Flags: append(conf.Without(conf.Flags(&o.Server), "model", "parallel"),
			&cli.StringFlag{Name: "persona", Aliases: []string{"p"}, Usage: "persona YAML `FILE` (its system prompt is sent)", Destination: &o.PersonaFile},
			&cli.StringFlag{Name: "memory", Value: ".tuneline/memory", Usage: "memory `DIR`", Destination: &o.MemoryDir},
			&cli.StringFlag{Name: "facts", Usage: "load facts from a YAML `FILE` first", Destination: &o.FactsFile},
			&cli.StringFlag{Name: "ask", Usage: "ask one `QUESTION` and exit", Destination: &o.Ask},
			&cli.StringFlag{Name: "rate", Usage: "with --ask: rate the turn good or bad", Destination: &o.Rate},
			&cli.IntFlag{Name: "recall", Value: 3, Usage: "facts and past turns retrieved per question", Destination: &o.Recall},
			&cli.IntFlag{Name: "max-tokens", Value: 512, Usage: "longest reply", Destination: &o.MaxTokens},
			&cli.BoolFlag{Name: "rebuild-memory", Usage: "rebuild --memory DIR's memory.db from its interactions.jsonl and exit (MODEL not needed)", Destination: &o.Rebuild},
		),
		Action: func(c *cli.Context) error {
			if o.Rebuild {
				n, skipped, err := memory.Rebuild(o.MemoryDir)
				if err != nil {
					return err
				}
				fmt.Fprintf(o.IO.ErrOut, "rebuilt %s from %d interactions (%d unreadable lines skipped)\n",
					filepath.Join(o.MemoryDir, "memory.db"), n, skipped)
				return nil
			}
			if c.NArg() != 1 {
				return usageErr("chat: give the MODEL")
			}
			o.Model = c.Args().First()
			return runF(c.Context, o)
		},
	}
}

func runChat(ctx context.Context, o *ChatOptions) error {
	var p *persona.Persona
	var err error
	if o.PersonaFile != "" {
		if p, err = persona.Load(o.PersonaFile); err != nil {
			return err
		}
	}
	b, err := backendFor(o.Server)
	if err != nil {
		return err
	}
	if _, err := b.Preflight(ctx, o.Model, false); err != nil {
		return err
	}
	mem, err := memory.Open(o.MemoryDir)
	if err != nil {
		return err
	}
	defer mem.Close()
	if o.FactsFile != "" {
		n, err := mem.LoadFacts(o.FactsFile)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "loaded %d facts\n", n)
	}
	sess := &memory.Session{Store: mem, Backend: b, Model: o.Model, Persona: p, Recall: o.Recall, MaxTokens: o.MaxTokens, Timeout: o.Server.Timeout}
	ask := func(q string) (memory.Episode, error) { return sess.Ask(ctx, q) }
	if o.Ask != "" {
		e, err := ask(o.Ask)
		if err != nil {
			return err
		}
		if o.Rate != "" {
			e.Rating = o.Rate
			mem.Rate(e.ID, o.Rate)
		}
		fmt.Fprintln(o.IO.Out, e.Response)
		return mem.AppendLog(e)
	}
	return memory.REPL(ctx, o.IO.In, o.IO.Out, mem, ask)
}
