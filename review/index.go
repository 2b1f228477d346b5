package review

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/format"
)

// Flags of an example, found by the export's own checks.
const (
	FlagNearDup = 1 << iota
	FlagExactDup
	FlagOverLimit
	FlagInvalid
)

// entry is what the index keeps of one example: where it lies in the file
// and what the list and the filters need. The example itself stays on disk.
type entry struct {
	off     int64
	n       int32
	line    int32
	dupOf   int32 // the entry it duplicates (with FlagNearDup or FlagExactDup), else -1
	source  uint16
	qtype   uint16
	kind    uint16
	flags   uint8
	score   float32 // the mean of the judge's scores, NaN without
	id      string
	base    string
	snippet string
}

// Index locates the examples of a JSON Lines file by byte offset, built by
// streaming the file once: examples are read back one at a time, so memory
// grows with the number of examples, not their size. It is filled in the
// background; what is indexed so far is served at once.
type Index struct {
	path string

	mu      sync.RWMutex
	entries []entry
	dicts   [3]dict // source, question type, kind
	done    bool
	flagged bool // the flags pass has ended
	err     error
}

type dict struct {
	names []string
	ids   map[string]uint16
}

func (d *dict) id(s string) uint16 {
	if v, ok := d.ids[s]; ok {
		return v
	}
	if d.ids == nil {
		d.ids = map[string]uint16{}
	}
	if len(d.names) >= math.MaxUint16 {
		return math.MaxUint16
	}
	v := uint16(len(d.names))
	d.names = append(d.names, s)
	d.ids[s] = v
	return v
}

// maxExampleLine bounds one example's line (as the dataset readers do).
const maxExampleLine = 64 << 20

// NewIndex starts indexing path; Wait waits for the end.
func NewIndex(ctx context.Context, path string, flags FlagOptions) *Index {
	x := &Index{path: path}
	go func() {
		err := x.build(ctx)
		x.mu.Lock()
		x.done, x.err = true, err
		x.mu.Unlock()
		if err == nil {
			x.flag(ctx, flags)
		}
		x.mu.Lock()
		x.flagged = true
		x.mu.Unlock()
	}()
	return x
}

// FlagOptions are the export settings the flags are found with.
type FlagOptions struct {
	MaxTokens int
	NearDup   float64
}

func (x *Index) build(ctx context.Context) error {
	f, err := os.Open(x.path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	line := 0
	batch := make([]entry, 0, 256)
	flush := func() {
		x.mu.Lock()
		x.entries = append(x.entries, batch...)
		x.mu.Unlock()
		batch = batch[:0]
	}
	for {
		b, err := readLine(br, maxExampleLine)
		n := int64(len(b))
		if err == nil {
			n++ // the newline
		}
		if len(b) > 0 || err == nil {
			line++
			if line%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if t := bytes.TrimSpace(b); len(t) > 0 {
				if len(b) >= maxExampleLine {
					return fmt.Errorf("%s:%d: line longer than %d MiB", x.path, line, maxExampleLine>>20)
				}
				batch = append(batch, x.entryOf(off, b, line))
				if len(batch) == cap(batch) {
					flush()
				}
			}
		}
		off += n
		if errors.Is(err, io.EOF) {
			flush()
			return nil
		}
		if err != nil {
			flush()
			return fmt.Errorf("%s:%d: %w", x.path, line+1, err)
		}
	}
}

func (x *Index) entryOf(off int64, b []byte, line int) entry {
	e := entry{off: off, n: int32(len(b)), line: int32(line), dupOf: -1, score: float32(math.NaN())}
	rec := datasets.Raw{Pos: datasets.Pos{File: x.path, Line: line}, Data: b}.Decode()
	if rec.Err != nil {
		e.flags = FlagInvalid
		e.id = fmt.Sprintf("line-%d", line)
		e.snippet = "unreadable: " + rec.Err.Error()
		return e
	}
	ex := &rec.Example
	e.base = Base(ex)
	e.id = strings.Clone(ExampleID(ex))
	if e.id == "" {
		e.id = e.base
	}
	for _, m := range ex.Turns() {
		if m.Role == datasets.RoleUser {
			e.snippet = snippet(m.Content, 100)
			break
		}
	}
	if e.snippet == "" && len(ex.Messages) > 0 {
		e.snippet = snippet(ex.Messages[len(ex.Messages)-1].Content, 100)
	}
	if len(ex.Meta.Scores) > 0 {
		var sum float64
		for _, v := range ex.Meta.Scores {
			sum += v
		}
		e.score = float32(sum / float64(len(ex.Meta.Scores)))
	}
	kind := ex.Meta.Kind
	if kind == "" && ex.IsPair() {
		kind = "preference"
	}
	x.mu.Lock()
	e.source = x.dicts[0].id(ex.Meta.Source)
	e.qtype = x.dicts[1].id(ex.Meta.QuestionType)
	e.kind = x.dicts[2].id(kind)
	x.mu.Unlock()
	return e
}

// snippet is s on one line, cut at n runes.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return strings.Clone(s)
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// flag runs the export's checks and deduplication over the file, in the
// background, and marks what an export would flag or drop.
func (x *Index) flag(ctx context.Context, o FlagOptions) {
	params := format.NewDedupParams(o.NearDup)
	dd := format.NewDeduper(params)
	sigs := map[int]format.Sig{}
	var mu sync.Mutex
	scan := format.ScanOptions{MaxTokens: o.MaxTokens, Norm: true, Workers: 1,
		Prepare: func(c *format.Checked, w *format.WorkerState) {
			if !c.Valid {
				return
			}
			s := format.Fingerprint(c.Record.Example.KeyMessages(), &w.Norm, &params)
			mu.Lock()
			sigs[c.Record.Pos.Line] = s
			mu.Unlock()
		}}
	_ = format.Scan(ctx, []string{x.path}, scan, func(c *format.Checked) error {
		line := c.Record.Pos.Line
		i := x.at(line)
		if i < 0 {
			return nil
		}
		var fl uint8
		for _, is := range c.Issues {
			switch {
			case is.Category == format.WarnOverMaxTokens:
				fl |= FlagOverLimit
			case is.Severity == format.SevError:
				fl |= FlagInvalid
			}
		}
		dupOf := int32(-1)
		mu.Lock()
		s, ok := sigs[line]
		delete(sigs, line)
		mu.Unlock()
		if ok && o.NearDup > 0 {
			v, _, l, err := dd.Add(&s, 0, line)
			if err == nil && v != format.Unique {
				if v == format.ExactDup {
					fl |= FlagExactDup
				} else {
					fl |= FlagNearDup
				}
				dupOf = int32(x.at(l))
			}
		}
		if fl != 0 {
			x.mu.Lock()
			x.entries[i].flags |= fl
			if dupOf >= 0 {
				x.entries[i].dupOf = dupOf
			}
			x.mu.Unlock()
		}
		return nil
	})
}

// at is the entry of a line, or -1.
func (x *Index) at(line int) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return int(x.entries[i].line) >= line })
	if i < len(x.entries) && int(x.entries[i].line) == line {
		return i
	}
	return -1
}

// Len is the number of examples indexed so far, and whether the index is
// complete.
func (x *Index) Len() (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries), x.done
}

// Err is the error that ended indexing early, if any.
func (x *Index) Err() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.err
}

// Example reads the i-th example back from the file.
func (x *Index) Example(i int) (datasets.Record, error) {
	x.mu.RLock()
	if i < 0 || i >= len(x.entries) {
		x.mu.RUnlock()
		return datasets.Record{}, fmt.Errorf("no example %d", i)
	}
	e := x.entries[i]
	x.mu.RUnlock()
	f, err := os.Open(x.path)
	if err != nil {
		return datasets.Record{}, err
	}
	defer f.Close()
	b := make([]byte, e.n)
	if _, err := f.ReadAt(b, e.off); err != nil {
		return datasets.Record{}, fmt.Errorf("%s:%d: %w", x.path, e.line, err)
	}
	return datasets.Raw{Pos: datasets.Pos{File: x.path, Line: int(e.line)}, Data: b}.Decode(), nil
}

// Wait blocks until the index (not the flags) is complete.
func (x *Index) Wait(ctx context.Context) error {
	for {
		if _, done := x.Len(); done {
			return x.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeAfter():
		}
	}
}

func timeAfter() <-chan time.Time { return time.After(20 * time.Millisecond) }
