package memory

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Session is a chat with memory: each question is asked with the persona's
// system prompt and the facts and past turns the store recalls for it, and
// the turn is kept as an episode.
type Session struct {
	Store     *Store
	Backend   llm.Backend
	Model     string
	Persona   *persona.Persona // optional
	Recall    int              // facts and past turns retrieved per question
	MaxTokens int
	Timeout   time.Duration // per request; a dropped connection or overload is retried
}

// Ask asks one question and records the turn (not yet in the log: see
// Store.AppendLog).
func (s *Session) Ask(ctx context.Context, q string) (Episode, error) {
	recall, err := s.Store.Retrieve(q, s.Recall)
	if err != nil {
		return Episode{}, err
	}
	var sys []string
	if s.Persona != nil {
		sys = append(sys, strings.TrimSpace(s.Persona.System))
	}
	if c := recall.Context(); c != "" {
		sys = append(sys, c)
	}
	var msgs []llm.Message
	if len(sys) > 0 {
		msgs = append(msgs, llm.Message{Role: "system", Content: strings.Join(sys, "\n\n")})
	}
	msgs = append(msgs, llm.Message{Role: "user", Content: q})
	rep, _, err := llm.Send(ctx, s.Backend, llm.Request{Model: s.Model, Messages: msgs, Temperature: 0.7, MaxTokens: s.MaxTokens}, s.Timeout, 0, 3, rand.Float64)
	if err != nil {
		return Episode{}, err
	}
	return s.Store.AddEpisode(Episode{Query: q, Response: strings.TrimSpace(rep.Content)})
}

// REPL runs the interactive loop (questions, /fact, /facts, /good,
// /bad, /quit); a turn is written to the log when it is
// final (the next question, a rating, or the end).
func REPL(ctx context.Context, in io.Reader, out io.Writer, mem *Store, ask func(string) (Episode, error)) error {
	var pending *Episode
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
			if err := mem.AddFact(Fact{Topic: f[0], Key: k, Value: strings.TrimSpace(v)}); err != nil {
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
