package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/pipelines"
	"github.com/tuneline/tuneline/review"
)

type reviewOptions struct {
	target string
	port   int
	noOpen bool
}

func newReviewCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &reviewOptions{}
	return &cli.Command{
		Name:      "review",
		Usage:     "review examples in the browser: accept, reject, edit; the next build honours it",
		ArgsUsage: "[WORKSPACE | FILE.jsonl]",
		Description: `Serves a page on 127.0.0.1 (nothing else can reach it) and prints its address,
which holds a random token: requests without it are refused. The page shows one
example at a time with its source passage, provenance, judge scores and reason,
question type and flags (near-duplicate, over the token limit), a list to jump
around, filters and counts. Keys: j/k next/previous, a accept, r reject, e edit
the last reply (Ctrl+Enter saves, Escape cancels), s swap a preference pair's
replies, u undo, / search, ? keys.

Decisions are appended to WORKSPACE/review.jsonl (for a file, FILE.review.jsonl)
as they are made, one JSON object a line, the last one per example id winning.
tuneline run applies them between curate and export: rejected examples are left
out and edited ones exported as edited. An example that changed since it was
decided on needs review again (its decision is not applied). Outside a
workspace, tuneline export --review FILE applies a decisions file.

Ctrl-C stops the server; every decision is already on disk.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Usage: "`PORT` to listen on (default: a free one)", Destination: &o.port},
			&cli.BoolFlag{Name: "no-open", Usage: "print the address, do not open a browser", Destination: &o.noOpen},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErr("review takes one workspace or file, got %d arguments", c.NArg())
			}
			o.target = "."
			if c.NArg() == 1 {
				o.target = c.Args().First()
			}
			return runReview(c, ios, o)
		},
	}
}

func runReview(c *cli.Context, ios *iostreams.IOStreams, o *reviewOptions) error {
	opt, err := reviewTarget(o.target)
	if err != nil {
		return err
	}
	srv, err := review.New(c.Context, opt)
	if err != nil {
		return err
	}
	ln, err := review.Listen(o.port)
	if err != nil {
		return fmt.Errorf("review: %w (choose another --port)", err)
	}
	url := srv.URL(ln)
	fmt.Fprintln(ios.Out, url)
	fmt.Fprintf(ios.ErrOut, "reviewing %s; decisions go to %s; Ctrl-C stops\n", opt.Examples, opt.Decisions)
	for _, w := range srv.Decisions().Warnings {
		fmt.Fprintln(ios.ErrOut, "warning: "+w)
	}
	if !o.noOpen {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(ios.ErrOut, "could not open a browser (%v): open the address above\n", err)
		}
	}
	return srv.Serve(c.Context, ln)
}

// reviewTarget is a workspace's dataset, or a file with the chunks file
// beside it when there is one.
func reviewTarget(target string) (review.Options, error) {
	st, err := os.Stat(target)
	if err != nil {
		return review.Options{}, err
	}
	if st.IsDir() || filepath.Base(target) == "tuneline.yaml" {
		cfg, err := pipelines.Load(target)
		if err != nil {
			return review.Options{}, err
		}
		opt := pipelines.ReviewOptions(cfg)
		if _, err := os.Stat(opt.Examples); err != nil {
			return review.Options{}, fmt.Errorf("review: no examples yet in %s: run the workspace first (tuneline run)", filepath.Dir(opt.Examples))
		}
		return opt, nil
	}
	if strings.HasSuffix(target, ".gz") {
		return review.Options{}, errors.New("review: a compressed file cannot be reviewed in place: decompress it first")
	}
	def := format.DefaultConfig()
	opt := review.Options{Examples: target, Decisions: review.PathFor(target),
		Flags: review.FlagOptions{MaxTokens: def.MaxTokens, NearDup: def.NearDup}}
	if ch := filepath.Join(filepath.Dir(target), "chunks.jsonl"); ch != target {
		if _, err := os.Stat(ch); err == nil {
			opt.Chunks = ch
		}
	}
	return opt, nil
}

func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
