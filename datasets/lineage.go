package datasets

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ReadChunks streams a chunks file to fn (see Chunks for the rule on bad
// lines).
func ReadChunks(path string, fn func(Chunk) error) error {
	for c, err := range Chunks(path) {
		if err != nil {
			return err
		}
		if err := fn(c.Chunk); err != nil {
			return err
		}
	}
	return nil
}

// SourceCoverage is how much of one source produced examples.
type SourceCoverage struct {
	Source        string   `json:"source"`
	Chunks        int      `json:"chunks"`
	ChunksUsed    int      `json:"chunks_with_examples"`
	Examples      int      `json:"examples"`
	Uncovered     []string `json:"uncovered,omitempty"` // pages or time ranges without examples
	UncoveredMore int      `json:"uncovered_more,omitempty"`
}

// DatasetStats summarises an examples file.
type DatasetStats struct {
	File        string                    `json:"file"`
	Examples    int                       `json:"examples"`
	Invalid     int                       `json:"invalid"`
	Messages    int                       `json:"messages"`
	Roles       map[string]int            `json:"roles"`
	Kinds       map[string]int            `json:"kinds"`
	Questions   map[string]int            `json:"question_types"`
	Personas    map[string]int            `json:"personas"`
	Scores      map[string]map[string]int `json:"scores"` // criterion -> ScoreBin -> count
	ScoreMeans  map[string]float64        `json:"score_means"`
	Chars       int64                     `json:"chars"`
	PerSource   map[string]int            `json:"examples_per_source"`
	Coverage    []SourceCoverage          `json:"coverage,omitempty"`
	scoreSums   map[string]float64
	scoreCounts map[string]int
}

// ScoreBin is the histogram bin of a score: half a point wide, named by its
// lower end ("3.5" holds 3.5 up to 4, "4" holds 4 up to 4.5). An overall
// score is a mean of whole-point criteria, so it falls between them, and a
// bin never mixes scores on both sides of a min_score given in half points
// (rounding put 3.5 in "4", where min_score 4 drops it).
func ScoreBin(v float64) string {
	return strconv.FormatFloat(math.Floor(v*2)/2, 'f', -1, 64)
}

// ScoreBinLabel names a ScoreBin by its range ("3.5 to <4"), for readers
// who would take "3.5" for a rounded value.
func ScoreBinLabel(bin string) string {
	v, err := strconv.ParseFloat(bin, 64)
	if err != nil {
		return bin
	}
	return bin + " to <" + strconv.FormatFloat(v+0.5, 'f', -1, 64)
}

// ScoreBins lists a criterion's bins in score order.
func ScoreBins(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.ParseFloat(out[i], 64)
		b, _ := strconv.ParseFloat(out[j], 64)
		return a < b
	})
	return out
}

// Stats reads an examples file (and, when chunksPath is set, the chunks it
// came from, to report which documents, pages and time ranges produced no
// example).
func Stats(ctx context.Context, path, chunksPath string) (*DatasetStats, error) {
	return StatsFunc(ctx, path, chunksPath, nil)
}

// StatsFunc is Stats that also hands every valid record to visit (when not
// nil), for callers that gather more in the same pass.
func StatsFunc(ctx context.Context, path, chunksPath string, visit func(*Record)) (*DatasetStats, error) {
	return StatsFiles(ctx, []string{path}, chunksPath, visit)
}

// StatsFiles is StatsFunc over several example files counted as one
// dataset (generated examples and chat-log examples, as an export reads
// them); File names the first.
func StatsFiles(ctx context.Context, paths []string, chunksPath string, visit func(*Record)) (*DatasetStats, error) {
	s := &DatasetStats{File: paths[0], Roles: map[string]int{}, Kinds: map[string]int{}, Questions: map[string]int{}, Personas: map[string]int{},
		Scores: map[string]map[string]int{}, ScoreMeans: map[string]float64{}, PerSource: map[string]int{},
		scoreSums: map[string]float64{}, scoreCounts: map[string]int{}}
	perChunk := map[string]int{}
	for rec, err := range ReadFiles(ctx, paths) {
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			s.Invalid++
			continue
		}
		if visit != nil {
			visit(&rec)
		}
		ex := rec.Example
		s.Examples++
		s.Messages += len(ex.Messages)
		for _, m := range ex.Messages {
			s.Roles[m.Role]++
			s.Chars += int64(len(m.Content))
		}
		if ex.Meta.Kind != "" {
			s.Kinds[ex.Meta.Kind]++
		}
		if ex.Meta.QuestionType != "" {
			s.Questions[ex.Meta.QuestionType]++
		}
		if ex.Meta.Persona != "" {
			s.Personas[ex.Meta.Persona]++
		}
		src := ex.Meta.Source
		if src == "" {
			src = "(unknown)"
		}
		s.PerSource[src]++
		if ex.Meta.ChunkID != "" {
			perChunk[ex.Meta.ChunkID]++
		}
		for k, v := range ex.Meta.Scores {
			if s.Scores[k] == nil {
				s.Scores[k] = map[string]int{}
			}
			s.Scores[k][ScoreBin(v)]++
			s.scoreSums[k] += v
			s.scoreCounts[k]++
		}
	}
	for k, v := range s.scoreSums {
		s.ScoreMeans[k] = v / float64(s.scoreCounts[k])
	}
	if chunksPath != "" {
		cov := map[string]*SourceCoverage{}
		var order []string
		err := ReadChunks(chunksPath, func(c Chunk) error {
			sc := cov[c.Source]
			if sc == nil {
				sc = &SourceCoverage{Source: c.Source}
				cov[c.Source] = sc
				order = append(order, c.Source)
			}
			sc.Chunks++
			if n := perChunk[c.ID]; n > 0 {
				sc.ChunksUsed++
				sc.Examples += n
			} else {
				where := c.Section
				switch {
				case c.PageStart > 0:
					where = fmt.Sprintf("pages %d-%d", c.PageStart, c.PageEnd)
				case c.TimeEnd > 0:
					where = fmt.Sprintf("%s-%s", clock(c.TimeStart), clock(c.TimeEnd))
				case where == "":
					where = "chunk " + c.ID
				}
				if len(sc.Uncovered) < 10 {
					sc.Uncovered = append(sc.Uncovered, where)
				} else {
					sc.UncoveredMore++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, src := range order {
			s.Coverage = append(s.Coverage, *cov[src])
		}
	}
	return s, nil
}

func clock(sec float64) string {
	t := int(sec)
	return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
}

// Lineage is an example traced back to its chunk and source location.
type Lineage struct {
	Example Example `json:"example"`
	File    string  `json:"found_in"`
	Line    int     `json:"line"`
	Chunk   *Chunk  `json:"chunk,omitempty"`
}

// Find looks an example up by id in the files, and its chunk in chunksPath.
func Find(ctx context.Context, id string, files []string, chunksPath string) (*Lineage, error) {
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		for rec, err := range ReadFile(ctx, f) {
			if err != nil {
				return nil, err
			}
			if rec.Err != nil {
				continue
			}
			ex := rec.Example
			ex.EnsureID()
			if ex.ID != id {
				continue
			}
			l := &Lineage{Example: ex, File: f, Line: rec.Pos.Line}
			if chunksPath != "" && ex.Meta.ChunkID != "" {
				ReadChunks(chunksPath, func(c Chunk) error {
					if c.ID == ex.Meta.ChunkID {
						cc := c
						l.Chunk = &cc
						return io.EOF
					}
					return nil
				})
			}
			return l, nil
		}
	}
	return nil, fmt.Errorf("no example with id %q in %s", id, strings.Join(files, ", "))
}

// DatasetDiff is what changed between two examples files.
type DatasetDiff struct {
	A, B       string         `json:"-"`
	CountA     int            `json:"examples_a"`
	CountB     int            `json:"examples_b"`
	Added      int            `json:"added"`
	Removed    int            `json:"removed"`
	Same       int            `json:"same"`
	AddedIDs   []string       `json:"added_ids"`
	RemovedIDs []string       `json:"removed_ids"`
	SourcesA   map[string]int `json:"sources_a"`
	SourcesB   map[string]int `json:"sources_b"`
}

// Diff compares two examples files by content id, recomputed from the
// messages on both sides (so files written by any version compare alike);
// only the ids of the first file are held in memory.
func Diff(ctx context.Context, a, b string) (*DatasetDiff, error) {
	d := &DatasetDiff{A: a, B: b, SourcesA: map[string]int{}, SourcesB: map[string]int{}}
	ids := map[string]bool{}
	for rec, err := range ReadFile(ctx, a) {
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			continue
		}
		d.CountA++
		ids[ContentID(rec.Example.KeyMessages())] = true
		d.SourcesA[rec.Example.Meta.Source]++
	}
	seen := map[string]bool{}
	for rec, err := range ReadFile(ctx, b) {
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			continue
		}
		d.CountB++
		id := ContentID(rec.Example.KeyMessages())
		seen[id] = true
		d.SourcesB[rec.Example.Meta.Source]++
		if ids[id] {
			d.Same++
		} else {
			d.Added++
			if len(d.AddedIDs) < 20 {
				d.AddedIDs = append(d.AddedIDs, id)
			}
		}
	}
	var removed []string
	for id := range ids {
		if !seen[id] {
			removed = append(removed, id)
		}
	}
	sort.Strings(removed)
	d.Removed = len(removed)
	if len(removed) > 20 {
		removed = removed[:20]
	}
	d.RemovedIDs = removed
	return d, nil
}
