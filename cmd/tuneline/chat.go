package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/iostreams"
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
}

func newChatCmd(ios *iostreams.IOStreams) *cli.Command {
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
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("chat: give the MODEL")
			}
			o.Model = c.Args().First()
			return runChat(c.Context, o)
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
	ask := func(q string) (memory.Episode, error) {
		recall, err := mem.Retrieve(q, o.Recall)
		if err != nil {
			return memory.Episode{}, err
		}
		var sys []string
		if p != nil {
			sys = append(sys, strings.TrimSpace(p.System))
		}
		if c := recall.Context(); c != "" {
			sys = append(sys, c)
		}
		var msgs []llm.Message
		if len(sys) > 0 {
			msgs = append(msgs, llm.Message{Role: "system", Content: strings.Join(sys, "\n\n")})
		}
		msgs = append(msgs, llm.Message{Role: "user", Content: q})
		// A dropped connection or an overloaded server is retried; the
		// timeout is the server section's.
		rep, _, err := llm.Send(ctx, b, llm.Request{Model: o.Model, Messages: msgs, Temperature: 0.7, MaxTokens: o.MaxTokens}, o.Server.Timeout, 0, 3, rand.Float64)
		if err != nil {
			return memory.Episode{}, err
		}
		return mem.AddEpisode(memory.Episode{Query: q, Response: strings.TrimSpace(rep.Content)})
	}
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
	return repl(ctx, o.IO.In, o.IO.Out, mem, ask)
}

// repl runs the interactive loop; a turn is written to the log when it is
// final (the next question, a rating, or the end).
func repl(ctx context.Context, in io.Reader, out io.Writer, mem *memory.Store, ask func(string) (memory.Episode, error)) error {
	var pending *memory.Episode
	flush := func() error {
		if pending == nil {
			return nil
		}
		err := mem.AppendLog(*pending)
		pending = nil
		return err
	}
	defer flush()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	fmt.Fprint(out, "> ")
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case line == "/quit" || line == "/exit":
			return flush()
		case line == "/good" || line == "/bad":
			if pending == nil {
				fmt.Fprintln(out, "nothing to rate yet")
				break
			}
			pending.Rating = strings.TrimPrefix(line, "/")
			mem.Rate(pending.ID, pending.Rating)
			fmt.Fprintf(out, "rated %s\n", pending.Rating)
			if err := flush(); err != nil {
				return err
			}
		case line == "/facts":
			facts, err := mem.Facts()
			if err != nil {
				return err
			}
			for _, f := range facts {
				fmt.Fprintln(out, f)
			}
		case strings.HasPrefix(line, "/fact "):
			f := strings.Fields(strings.TrimPrefix(line, "/fact "))
			if len(f) < 2 || !strings.Contains(strings.Join(f[1:], " "), "=") {
				fmt.Fprintln(out, "usage: /fact TOPIC KEY=VALUE")
				break
			}
			k, v, _ := strings.Cut(strings.Join(f[1:], " "), "=")
			if err := mem.AddFact(memory.Fact{Topic: f[0], Key: k, Value: strings.TrimSpace(v)}); err != nil {
				fmt.Fprintln(out, err)
				break
			}
			fmt.Fprintln(out, "remembered")
		case strings.HasPrefix(line, "/"):
			fmt.Fprintln(out, "commands: /fact TOPIC KEY=VALUE, /facts, /good, /bad, /quit")
		default:
			if err := flush(); err != nil {
				return err
			}
			e, err := ask(line)
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				break
			}
			pending = &e
			fmt.Fprintln(out, e.Response)
		}
		fmt.Fprint(out, "> ")
	}
	return sc.Err()
}
