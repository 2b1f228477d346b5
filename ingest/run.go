package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/ingest/transcript"
	"github.com/tuneline/tuneline/internal/ordered"
	"github.com/tuneline/tuneline/tokens"
)

// Options configure Run.
type Options struct {
	Chunk   ChunkOptions
	Workers int
	// EmitText writes each document's clean text instead of chunks.
	EmitText bool
	// GoodOnly keeps only the chat-log turns the user rated "good".
	GoodOnly bool
	// MaxBytes caps a source's size (default 200 MB; URLs 20 MB).
	MaxBytes int64
	// Limits bound the time and memory of each document.
	Limits Limits
	// HTTP fetches URLs (default: 30 s timeout, 5 redirects, no
	// connection to a private, loopback or link-local address other than
	// the host of the URL given; see guardedClient).
	HTTP *http.Client
	// AllowPrivateNetwork lets URLs and their redirects reach private,
	// loopback and link-local addresses.
	AllowPrivateNetwork bool
	// Progress, when set, is called after each source.
	Progress func(done, total int)
	// Shard, when set, keeps one part of the sources (see Shard).
	Shard Shard

	inflating *inflateHold // set by ingestOne for load
}

// SourceResult is what happened to one source.
type SourceResult struct {
	Source string `json:"source"`
	// SourceRaw is Source byte for byte when it is not UTF-8.
	SourceRaw []byte   `json:"source_raw,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	Title     string   `json:"title,omitempty"`
	Pages     int      `json:"pages,omitempty"`
	Chunks    int      `json:"chunks"`
	Tokens    int      `json:"tokens"`
	Examples  int      `json:"examples,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Summary is the --json summary of an ingest run.
type Summary struct {
	Documents int               `json:"documents"`
	Pages     int               `json:"pages"`
	Chunks    int               `json:"chunks"`
	Tokens    int               `json:"tokens"`
	Examples  int               `json:"examples"`
	Kinds     map[string]int    `json:"kinds"`
	Errors    map[string]string `json:"errors"`
	Sources   []SourceResult    `json:"sources"`
	// Skipped are the entries of folders that are not regular files.
	Skipped []Skip `json:"skipped,omitempty"`
}

// Output receives what Run produces, in source order.
type Output interface {
	Chunk(Chunk) error
	Text(d *Document, text string) error
	// ChatExamples gets a chat log's examples as JSON Lines, one
	// datasets.Example a line.
	ChatExamples(source string, jsonl []byte) error
}

// SourceEnder is an Output told when all of a source's output is written
// (run's ingest stage keeps each source's output in a file of its own).
type SourceEnder interface {
	SourceDone(SourceResult) error
}

type result struct {
	res    SourceResult
	doc    *Document
	chunks []Chunk
	text   string
	// exs are a chat log's examples, held encoded (JSON Lines) until the
	// log's turn to be written: as structs they took 6x the log's size.
	exs lineBlocks
	// bud holds the memory of what the result holds until it is written.
	bud *Budget
}

// Run ingests the sources with bounded parallelism and writes their chunks
// (or texts, or examples for chat logs) to out in source order. A source
// that fails is reported in the summary and the run goes on.
func Run(ctx context.Context, sources []string, opt Options, out Output) (Summary, error) {
	files, skipped, err := Expand(sources)
	if err != nil {
		return Summary{}, err
	}
	files = opt.Shard.Filter(files)
	var skips []Skip
	for _, s := range skipped {
		if opt.Shard.Has(s.Path) {
			skips = append(skips, s)
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = DefaultConfig().Workers
	}
	// no more workers (and token counters, a cache each) than files: run's
	// ingest stage calls Run for one source at a time
	workers = max(1, min(workers, len(files)))
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 200 << 20
	}
	if opt.HTTP == nil {
		opt.HTTP = guardedClient(opt.AllowPrivateNetwork)
	}
	counters := make([]*tokens.Counter, workers)
	for w := range counters {
		counters[w] = tokens.NewCounter()
	}
	indices := func(yield func(int, error) bool) {
		for i := range files {
			if !yield(i, nil) {
				return
			}
		}
	}
	if opt.Limits.Pool == nil {
		opt.Limits.Pool = NewPool(opt.Limits.RunMemoryMB)
	}
	sum := Summary{Kinds: map[string]int{}, Errors: map[string]string{}, Sources: []SourceResult{}, Skipped: skips}
	done := 0
	err = ordered.Map(ctx, workers, 0, indices,
		func(ctx context.Context, w int, i int) result { return ingestOne(ctx, i, files[i], opt, counters[w]) },
		func(r result) error {
			defer r.bud.Release()
			if r.res.Error != "" {
				sum.Errors[r.res.Source] = r.res.Error
			} else {
				sum.Documents++
				sum.Kinds[r.res.Kind]++
				sum.Pages += r.res.Pages
				sum.Chunks += r.res.Chunks
				sum.Tokens += r.res.Tokens
				sum.Examples += r.res.Examples
			}
			sum.Sources = append(sum.Sources, r.res)
			for _, c := range r.chunks {
				if err := out.Chunk(c); err != nil {
					return err
				}
			}
			if opt.EmitText && r.doc != nil {
				if err := out.Text(r.doc, r.text); err != nil {
					return err
				}
			}
			for _, b := range r.exs.blocks {
				if err := out.ChatExamples(r.res.Source, b); err != nil {
					return err
				}
			}
			if d, ok := out.(SourceEnder); ok {
				if err := d.SourceDone(r.res); err != nil {
					return err
				}
			}
			done++
			if opt.Progress != nil {
				opt.Progress(done, len(files))
			}
			return nil
		})
	return sum, err
}

func ingestOne(ctx context.Context, seq int, src string, opt Options, tc *tokens.Counter) (r result) {
	r.res.Source, r.res.SourceRaw = src, rawName(src)
	defer func() {
		if rec := recover(); rec != nil {
			r = result{res: SourceResult{Source: src, SourceRaw: rawName(src), Error: fmt.Sprintf("internal error while extracting: %v", rec)}}
		}
	}()
	// The file's bytes are taken from the run's memory before it is read
	// (when its size is known), what it inflates to after.
	size := localSize(src)
	bud := Admit(ctx, seq, size, opt.Limits)
	defer func() {
		if r.bud == nil { // else released once the result is written
			bud.Release()
		}
	}()
	lopt := opt
	lopt.inflating = &inflateHold{hold: bud.Hold}
	data, contentType, err := load(ctx, src, lopt)
	if err != nil {
		r.res.Error = err.Error()
		return r
	}
	if err := bud.Hold(int64(len(data)) - size - lopt.inflating.n); err != nil {
		r.res.Error = err.Error()
		return r
	}
	cancel := bud.Start(ctx, int64(len(data)))
	defer cancel()
	sn := newSniff(src, data, contentType)
	kind := detect(sn)
	r.res.Kind = kind.Name
	if kind.Examples {
		r = chatExamples(src, data, r, opt.GoodOnly, bud)
		r.bud = bud
		return r
	}
	d, err := within(bud, func() (*Document, error) { return extract(kind, kind.Name, sn, bud) })
	if err != nil {
		r.res.Error = err.Error()
		return r
	}
	r.doc = d
	r.res.Title, r.res.Pages, r.res.Warnings = d.Title, d.Pages, d.Warnings
	if opt.EmitText {
		r.text = DocumentText(d)
		r.res.Tokens = tc.Count(r.text)
		r.bud = bud
		return r
	}
	r.chunks = ChunkDocument(d, opt.Chunk, tc)
	r.res.Chunks = len(r.chunks)
	for _, c := range r.chunks {
		r.res.Tokens += c.Tokens
	}
	if len(r.chunks) == 0 {
		r.res.Warnings = append(r.res.Warnings, "no text to chunk")
	}
	r.bud = bud
	return r
}

// isChatLog tells whether the first record parses as a chat example.
func isChatLog(b []byte) bool {
	for raw, err := range datasets.RawRecords(context.Background(), bytes.NewReader(b), "") {
		if err != nil {
			return false
		}
		rec := raw.Decode()
		return rec.Err == nil || (rec.Err.Category != datasets.ErrUnknownShape && rec.Err.Category != datasets.ErrInvalidJSON && rec.Err.Category != datasets.ErrNotObject)
	}
	return false
}

// transcriptSegments merges caption lines into sentences and paragraphs: a
// new paragraph starts when the speaker changes or after a pause of more
// than two seconds.
func transcriptSegments(lines []transcript.Line) []Segment {
	var segs []Segment
	var text strings.Builder // the open segment's text: appending to a string was quadratic
	flush := func() {
		if len(segs) > 0 {
			segs[len(segs)-1].Text = text.String()
		}
		text.Reset()
	}
	for i, l := range lines {
		brk := i == 0 || l.Speaker != lines[i-1].Speaker || (l.End > 0 && l.Start-lines[i-1].End > 2)
		if !brk && len(segs) > 0 {
			text.WriteByte(' ')
			text.WriteString(l.Text)
			s := &segs[len(segs)-1]
			s.End = max(s.End, l.End)
			continue
		}
		flush()
		text.WriteString(l.Text)
		segs = append(segs, Segment{Break: true, Start: l.Start, End: l.End, Speaker: l.Speaker})
	}
	flush()
	return segs
}

// DocumentText is a document's clean text: paragraphs separated by blank
// lines, headings on their own.
func DocumentText(d *Document) string {
	var b strings.Builder
	for i, s := range d.Segments {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if s.Speaker != "" {
			b.WriteString(s.Speaker + ": ")
		}
		b.WriteString(s.Text)
	}
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

func chatExamples(src string, data []byte, r result, goodOnly bool, bud *Budget) result {
	skipped := 0
	for raw, err := range datasets.RawRecords(context.Background(), bytes.NewReader(data), src) {
		if err != nil {
			r.res.Warnings = append(r.res.Warnings, err.Error())
			break
		}
		// A record's decoding is transient (chatCost a byte, charged
		// while it is decoded and given back after); what is held until
		// the log's turn to be written is its encoded examples, charged as
		// their buffer grows.
		decoding := chatCost * int64(len(raw.Data))
		if decoding < 1<<20 {
			decoding = 0 // a small record's: only the budget's state is checked
		}
		if err := bud.Charge(decoding); err != nil {
			r.res.Error = fmt.Sprintf("%s: %v", raw.Pos, err)
			return r
		}
		rec := raw.Decode()
		bud.Refund(decoding)
		if rec.Err != nil {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: %s", rec.Pos, rec.Err))
			continue
		}
		ex := rec.Example
		if goodOnly && ex.Meta.Extra["rating"] != "good" {
			skipped++
			continue
		}
		ex.Meta.Source = src
		ex.Meta.Kind = "chat-log"
		// A log's own ids ("2", "3") repeat across logs and memory folders:
		// the example's id comes from its content, the log's is kept.
		if ex.ID != "" {
			setExtra(&ex.Meta, "log_id", ex.ID)
		}
		// JSON holds only UTF-8: a name that is not keeps its bytes, as a
		// chunk's source_raw does (base64).
		if raw := rawName(src); raw != nil {
			setExtra(&ex.Meta, "source_raw", base64.StdEncoding.EncodeToString(raw))
		}
		ex.ID = datasets.ContentID(ex.KeyMessages())
		line, err := json.Marshal(ex)
		if err != nil {
			r.res.Error = fmt.Sprintf("%s: %v", raw.Pos, err)
			return r
		}
		if err := bud.Charge(r.exs.add(line)); err != nil {
			r.exs, r.res.Error = lineBlocks{}, fmt.Sprintf("%s: %v", raw.Pos, err)
			return r
		}
		r.res.Examples++
	}
	if skipped > 0 {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%d turns not rated good left out (--good-only)", skipped))
	}
	if r.res.Examples == 0 && skipped == 0 {
		r.res.Error = "chat log with no usable example"
	}
	return r
}

func setExtra(m *datasets.Meta, k, v string) {
	if m.Extra == nil {
		m.Extra = map[string]string{}
	}
	m.Extra[k] = v
}

// lineBlocks hold lines in blocks of about a megabyte, each of whole
// lines: they grow without the copies (and the twice-the-size moment) of
// one growing buffer.
type lineBlocks struct {
	blocks [][]byte
}

const lineBlockSize = 1 << 20

// add appends line and a newline, and returns the bytes it allocated.
func (l *lineBlocks) add(line []byte) (allocated int64) {
	n := len(l.blocks)
	if n == 0 || cap(l.blocks[n-1])-len(l.blocks[n-1]) < len(line)+1 {
		l.blocks = append(l.blocks, make([]byte, 0, max(lineBlockSize, len(line)+1)))
		n++
		allocated = int64(cap(l.blocks[n-1]))
	}
	l.blocks[n-1] = append(append(l.blocks[n-1], line...), '\n')
	return allocated
}

// JSONOutput writes chunks (or texts) as JSON Lines to one writer and
// examples to another.
type JSONOutput struct {
	Chunks   io.Writer
	Examples io.Writer // nil: examples are an error
	TextOut  io.Writer
}

func (o *JSONOutput) Chunk(c Chunk) error { return writeJSONLine(o.Chunks, c) }

func (o *JSONOutput) Text(d *Document, text string) error {
	w := o.TextOut
	if w == nil {
		w = o.Chunks
	}
	_, err := io.WriteString(w, text)
	return err
}

// ChatExamples writes a chat log's examples, or says where they should go.
func (o *JSONOutput) ChatExamples(source string, jsonl []byte) error {
	if o.Examples == nil {
		return fmt.Errorf("%s is a chat log: its conversations become examples; pass --examples FILE to keep them", Quote(source))
	}
	_, err := o.Examples.Write(jsonl)
	return err
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
