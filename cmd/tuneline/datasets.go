package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/pipelines"
)

func countLines(path string) int {
	n, err := datasets.CountLines(path)
	if err != nil {
		return -1
	}
	return n
}

func printJSON(ios *iostreams.IOStreams, v any) error {
	return writeJSON(ios.Out, v)
}

func newDatasetsCmd(ios *iostreams.IOStreams) *cli.Command {
	var ws string
	var asJSON bool
	wsFlag := &cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Value: ".", Usage: "workspace `DIR`", Destination: &ws}
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "print JSON", Destination: &asJSON}
	// The workspace is -w, or a folder (or its tuneline.yaml) given as
	// an argument, as run and report take it.
	load := func(dir string) (*pipelines.Config, pipelines.Files, error) {
		if dir == "" {
			dir = ws
		}
		cfg, err := pipelines.Load(dir)
		if err != nil {
			return nil, pipelines.Files{}, err
		}
		return cfg, pipelines.WorkspaceFiles(cfg), nil
	}
	return &cli.Command{
		Name:  "datasets",
		Usage: "inspect a workspace's datasets: list, show (lineage), stats (coverage, scores), diff",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "the datasets of the workspace and of its earlier builds",
				ArgsUsage: "[DIR]",
				Description: `Every dataset file of the workspace (default: the current folder): chunks,
examples at each stage, each export's splits (the hf export's Parquet files
too) and the datasets of earlier builds, with their record counts.

EXAMPLES:
   tuneline datasets list                      # in a workspace
   tuneline datasets list examples/physics-expert --json`,
				Flags: []cli.Flag{wsFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return usageErr("datasets list: one workspace DIR at a time")
					}
					cfg, f, err := load(c.Args().First())
					if err != nil {
						return err
					}
					type item struct {
						Name, Path string
						Records    int
					}
					items := []item{{"chunks", f.Chunks, countLines(f.Chunks)}, {"chat-log examples", f.ChatLogs, countLines(f.ChatLogs)},
						{"synthesised", f.Synth, countLines(f.Synth)}, {"curated", f.Curated, countLines(f.Curated)}}
					for _, e := range f.Exports {
						// export-report.json names each split's files
						// (Parquet shards for hf) and counts its examples.
						var rep format.Report
						if b, err := os.ReadFile(filepath.Join(e, "export-report.json")); err == nil && json.Unmarshal(b, &rep) == nil {
							for _, split := range []string{format.SplitTrain, format.SplitValidation} {
								sr, ok := rep.Splits[split]
								if !ok {
									continue
								}
								var paths []string
								for _, p := range sr.Files {
									paths = append(paths, filepath.Join(e, p))
								}
								items = append(items, item{"export " + filepath.Base(e) + " " + split, strings.Join(paths, ", "), sr.Examples})
							}
							continue
						}
						for _, split := range []string{format.SplitTrain, format.SplitValidation} {
							p := filepath.Join(e, split+".jsonl")
							if _, err := os.Stat(p); err == nil {
								items = append(items, item{"export " + filepath.Base(e) + " " + split, p, countLines(p)})
							}
						}
					}
					hist, _ := filepath.Glob(filepath.Join(pipelines.HistoryDir(cfg), "*.jsonl"))
					sort.Strings(hist)
					for _, h := range hist {
						items = append(items, item{"build " + strings.TrimSuffix(filepath.Base(h), ".jsonl"), h, countLines(h)})
					}
					if asJSON {
						return printJSON(ios, items)
					}
					tw := tabwriter.NewWriter(ios.Out, 2, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "DATASET\tRECORDS\tPATH")
					for _, it := range items {
						n := fmt.Sprint(it.Records)
						if it.Records < 0 {
							n = "-"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Name, n, it.Path)
					}
					return tw.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "an example and its lineage: chunk, source, page or time",
				ArgsUsage: "[DIR] ID",
				Description: `EXAMPLES:
   tuneline datasets show ex-3f2a9c0d1b2e4f56
   tuneline datasets show examples/physics-expert ex-3f2a9c0d1b2e4f56
   tuneline datasets show --json ex-3f2a9c0d1b2e4f56 | jq .chunk.text`,
				Flags: []cli.Flag{wsFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() < 1 || c.NArg() > 2 {
						return usageErr("datasets show: give an example ID (after the workspace DIR, if not the current folder)")
					}
					dir, id := "", c.Args().Get(0)
					if c.NArg() == 2 {
						dir, id = c.Args().Get(0), c.Args().Get(1)
					}
					_, f, err := load(dir)
					if err != nil {
						return err
					}
					l, err := datasets.Find(c.Context, id, []string{f.Curated, f.Synth, f.ChatLogs}, f.Chunks)
					if err != nil {
						return err
					}
					if asJSON {
						return printJSON(ios, l)
					}
					w := ios.Out
					fmt.Fprintf(w, "example %s (%s:%d)\n", l.Example.ID, l.File, l.Line)
					for _, m := range l.Example.Messages {
						fmt.Fprintf(w, "  %-9s %s\n", m.Role+":", strings.ReplaceAll(m.Content, "\n", "\n            "))
					}
					m := l.Example.Meta
					var scores []string
					for _, k := range sortedKeys(m.Scores) {
						scores = append(scores, fmt.Sprintf("%s %.2g", k, m.Scores[k]))
					}
					fmt.Fprintf(w, "meta: persona %s, model %s, kind %s %s, scores: %s\n", m.Persona, m.Model, m.Kind, m.QuestionType, strings.Join(scores, ", "))
					if ch := l.Chunk; ch != nil {
						fmt.Fprintf(w, "from chunk %s of %s (%s)", ch.ID, ch.Source, ch.Kind)
						if ch.Section != "" {
							fmt.Fprintf(w, ", section %q", ch.Section)
						}
						if ch.PageStart > 0 {
							fmt.Fprintf(w, ", pages %d-%d", ch.PageStart, ch.PageEnd)
						}
						if ch.TimeEnd > 0 {
							fmt.Fprintf(w, ", %.1f-%.1f s", ch.TimeStart, ch.TimeEnd)
						}
						fmt.Fprintf(w, ":\n  %s\n", strings.ReplaceAll(ch.Text, "\n", "\n  "))
					} else if m.Source != "" {
						fmt.Fprintf(w, "from %s\n", m.Source)
					}
					return nil
				},
			},
			{
				Name:      "stats",
				Usage:     "counts, roles, scores and source coverage of a dataset",
				ArgsUsage: "[DIR|FILE]",
				Description: `A dataset FILE, or the dataset of the workspace DIR (default: the current
folder) with the coverage of its chunks.

EXAMPLES:
   tuneline datasets stats                     # the workspace's dataset, with coverage of its chunks
   tuneline datasets stats examples/physics-expert
   tuneline datasets stats --chunks chunks.jsonl curated.jsonl`,
				Flags: []cli.Flag{wsFlag, jsonFlag, &cli.StringFlag{Name: "chunks", Usage: "chunks `FILE` for coverage"}},
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return usageErr("datasets stats: one dataset FILE or workspace DIR at a time")
					}
					file, chunks := c.Args().First(), c.String("chunks")
					if file == "" || isWorkspaceArg(file) {
						_, f, err := load(file)
						if err != nil {
							return err
						}
						file = f.Dataset
						if _, err := os.Stat(f.Chunks); chunks == "" && err == nil {
							chunks = f.Chunks // coverage, when there are chunks
						}
					}
					s, err := datasets.Stats(c.Context, file, chunks)
					if err != nil {
						return err
					}
					if asJSON {
						return printJSON(ios, s)
					}
					w := ios.Out
					fmt.Fprintf(w, "%s: %d examples (%d invalid), %d messages, roles %s\n", s.File, s.Examples, s.Invalid, s.Messages, countsInline(s.Roles))
					fmt.Fprintf(w, "kinds %s; question types %s; personas %s\n", countsInline(s.Kinds), countsInline(s.Questions), countsInline(s.Personas))
					for _, k := range sortedKeys(s.Scores) {
						var bins []string
						for _, b := range datasets.ScoreBins(s.Scores[k]) {
							bins = append(bins, fmt.Sprintf("%s: %d", datasets.ScoreBinLabel(b), s.Scores[k][b]))
						}
						fmt.Fprintf(w, "score %-10s mean %.2f  %s\n", k, s.ScoreMeans[k], strings.Join(bins, ", "))
					}
					for _, cov := range s.Coverage {
						fmt.Fprintf(w, "source %s: %d of %d chunks produced %d examples", cov.Source, cov.ChunksUsed, cov.Chunks, cov.Examples)
						if len(cov.Uncovered) > 0 {
							fmt.Fprintf(w, "; none from %s", strings.Join(cov.Uncovered, ", "))
							if cov.UncoveredMore > 0 {
								fmt.Fprintf(w, " and %d more", cov.UncoveredMore)
							}
						}
						fmt.Fprintln(w)
					}
					return nil
				},
			},
			{
				Name:      "diff",
				Usage:     "what changed between two datasets (default: the workspace's last two builds)",
				ArgsUsage: "[DIR | A B]",
				Description: `EXAMPLES:
   tuneline datasets diff                      # the last two builds of the workspace
   tuneline datasets diff examples/physics-expert
   tuneline datasets diff old.jsonl new.jsonl --json`,
				Flags: []cli.Flag{wsFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					a, b := c.Args().Get(0), c.Args().Get(1)
					if c.NArg() > 2 || (c.NArg() == 1 && !isWorkspaceArg(a)) {
						return usageErr("datasets diff: give two dataset files A B, or a workspace DIR")
					}
					if a == "" || b == "" {
						cfg, _, err := load(a)
						if err != nil {
							return err
						}
						hist, _ := filepath.Glob(filepath.Join(pipelines.HistoryDir(cfg), "*.jsonl"))
						sort.Strings(hist)
						if len(hist) < 2 {
							return fmt.Errorf("the workspace has %d build(s) in its history; diff needs two (or give two files)", len(hist))
						}
						a, b = hist[len(hist)-2], hist[len(hist)-1]
					}
					d, err := datasets.Diff(c.Context, a, b)
					if err != nil {
						return err
					}
					if asJSON {
						return printJSON(ios, d)
					}
					fmt.Fprintf(ios.Out, "%s: %d examples\n%s: %d examples\n%d added, %d removed, %d unchanged\n", a, d.CountA, b, d.CountB, d.Added, d.Removed, d.Same)
					for _, s := range sortedKeys(d.SourcesB) {
						if d.SourcesA[s] != d.SourcesB[s] {
							fmt.Fprintf(ios.Out, "  %s: %d -> %d\n", s, d.SourcesA[s], d.SourcesB[s])
						}
					}
					return nil
				},
			},
		},
	}
}

// isWorkspaceArg tells whether an argument names a workspace (a folder, or
// a .yaml file) rather than a dataset file: a folder is never read as a
// dataset (that answered "0 examples" for a workspace folder).
func isWorkspaceArg(arg string) bool {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return true
	}
	return strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}
