package datasets

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sort"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// Row is an example as stored in Parquet: messages as
// list<struct<role, content>> and meta as a struct of typed columns. Maps are
// stored as lists of name/value pairs, which every Parquet and Arrow reader
// (and the Hugging Face datasets library) understands.
type Row struct {
	ID       string    `parquet:"id"`
	Messages []Message `parquet:"messages,list"`
	Meta     RowMeta   `parquet:"meta"`
}

// RowMeta is Meta in Parquet form.
type RowMeta struct {
	Origin       string     `parquet:"origin,optional"`
	Format       string     `parquet:"format,optional,dict"`
	Source       string     `parquet:"source,optional,dict"`
	DocID        string     `parquet:"doc_id,optional,dict"`
	ChunkID      string     `parquet:"chunk_id,optional"`
	Title        string     `parquet:"title,optional,dict"`
	Section      string     `parquet:"section,optional,dict"`
	PageStart    int32      `parquet:"page_start,optional"`
	PageEnd      int32      `parquet:"page_end,optional"`
	TimeStart    float64    `parquet:"time_start,optional"`
	TimeEnd      float64    `parquet:"time_end,optional"`
	Speaker      string     `parquet:"speaker,optional,dict"`
	Persona      string     `parquet:"persona,optional,dict"`
	Model        string     `parquet:"model,optional,dict"`
	Kind         string     `parquet:"kind,optional,dict"`
	QuestionType string     `parquet:"question_type,optional,dict"`
	Scores       []Score    `parquet:"scores,list"`
	Extra        []KeyValue `parquet:"extra,list"`
}

// Score is one named score.
type Score struct {
	Name  string  `parquet:"name,dict"`
	Value float64 `parquet:"value"`
}

// KeyValue is one extra metadata entry.
type KeyValue struct {
	Key   string `parquet:"key,dict"`
	Value string `parquet:"value"`
}

// ToRow converts an example to its Parquet form (map entries sorted by key).
func ToRow(e *Example) Row {
	m := e.Meta
	r := Row{ID: e.ID, Messages: e.Messages, Meta: RowMeta{
		Origin: m.Origin, Format: m.Format, Source: m.Source, DocID: m.DocID, ChunkID: m.ChunkID,
		Title: m.Title, Section: m.Section, PageStart: m.PageStart, PageEnd: m.PageEnd,
		TimeStart: m.TimeStart, TimeEnd: m.TimeEnd, Speaker: m.Speaker, Persona: m.Persona,
		Model: m.Model, Kind: m.Kind, QuestionType: m.QuestionType,
	}}
	for k, v := range m.Scores {
		r.Meta.Scores = append(r.Meta.Scores, Score{k, v})
	}
	sort.Slice(r.Meta.Scores, func(i, j int) bool { return r.Meta.Scores[i].Name < r.Meta.Scores[j].Name })
	for k, v := range m.Extra {
		r.Meta.Extra = append(r.Meta.Extra, KeyValue{k, v})
	}
	sort.Slice(r.Meta.Extra, func(i, j int) bool { return r.Meta.Extra[i].Key < r.Meta.Extra[j].Key })
	return r
}

// Example converts a Parquet row back.
func (r *Row) Example() Example {
	m := r.Meta
	e := Example{ID: r.ID, Messages: r.Messages, Meta: Meta{
		Origin: m.Origin, Format: m.Format, Source: m.Source, DocID: m.DocID, ChunkID: m.ChunkID,
		Title: m.Title, Section: m.Section, PageStart: m.PageStart, PageEnd: m.PageEnd,
		TimeStart: m.TimeStart, TimeEnd: m.TimeEnd, Speaker: m.Speaker, Persona: m.Persona,
		Model: m.Model, Kind: m.Kind, QuestionType: m.QuestionType,
	}}
	for _, s := range m.Scores {
		if e.Meta.Scores == nil {
			e.Meta.Scores = map[string]float64{}
		}
		e.Meta.Scores[s.Name] = s.Value
	}
	for _, kv := range m.Extra {
		if e.Meta.Extra == nil {
			e.Meta.Extra = map[string]string{}
		}
		e.Meta.Extra[kv.Key] = kv.Value
	}
	return e
}

// contentPath is the Parquet column of the message texts.
var (
	contentPath = []string{"messages", "list", "element", "content"}
	rolePath    = []string{"messages", "list", "element", "role"}
)

// Parquet layouts: one export holds one.
const (
	// LayoutChat: id, messages (role, content, name, weight), meta.
	LayoutChat = iota
	// LayoutTools: LayoutChat with tool_calls and tool_call_id in each
	// message and the tools list as JSON text.
	LayoutTools
	// LayoutPairs: TRL's preference columns prompt, chosen and rejected,
	// each a list of messages, with id and meta.
	LayoutPairs
	// LayoutPairsTools: LayoutPairs with tool_calls and tool_call_id in
	// each message and the tools column of LayoutTools (TRL's DPOTrainer
	// passes a row's tools to the chat template).
	LayoutPairsTools
)

// ToolRow is a chat example with tool calls in Parquet form.
type ToolRow struct {
	ID       string        `parquet:"id"`
	Messages []ToolMessage `parquet:"messages,list"`
	// Tools is OpenAI's tools list as JSON text: function schemas differ
	// from row to row, which one Parquet column type cannot hold. A row
	// without tools holds null, not "": TRL's SFTTrainer runs json.loads
	// on any string and passes None on as no tools.
	Tools string  `parquet:"tools,optional"`
	Meta  RowMeta `parquet:"meta"`
}

// ToolMessage is a message of a ToolRow.
type ToolMessage struct {
	Role       string     `parquet:"role,dict"`
	Content    string     `parquet:"content"`
	Name       string     `parquet:"name,optional,dict"`
	Weight     *int32     `parquet:"weight,optional"`
	ToolCalls  []ToolCall `parquet:"tool_calls,optional,list"`
	ToolCallID string     `parquet:"tool_call_id,optional"`
}

// PairRow is a preference pair in TRL's conversational form.
type PairRow struct {
	ID       string    `parquet:"id"`
	Prompt   []Message `parquet:"prompt,list"`
	Chosen   []Message `parquet:"chosen,list"`
	Rejected []Message `parquet:"rejected,list"`
	Meta     RowMeta   `parquet:"meta"`
}

// PairToolRow is a preference pair with tool calls: PairRow's columns with
// ToolRow's messages and tools.
type PairToolRow struct {
	ID       string        `parquet:"id"`
	Prompt   []ToolMessage `parquet:"prompt,list"`
	Chosen   []ToolMessage `parquet:"chosen,list"`
	Rejected []ToolMessage `parquet:"rejected,list"`
	Tools    string        `parquet:"tools,optional"` // as ToolRow's
	Meta     RowMeta       `parquet:"meta"`
}

func toolMessages(ms []Message) []ToolMessage {
	out := make([]ToolMessage, len(ms))
	for i, m := range ms {
		out[i] = ToolMessage(m)
	}
	return out
}

func fromToolMessages(ms []ToolMessage) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = Message(m)
	}
	return out
}

// ToPairToolRow converts a preference pair to a PairToolRow.
func ToPairToolRow(e *Example) PairToolRow {
	return PairToolRow{ID: e.ID, Prompt: toolMessages(e.Prompt()), Chosen: toolMessages(e.Chosen()), Rejected: toolMessages(e.Rejected),
		Tools: string(e.Tools), Meta: ToRow(&Example{Meta: e.Meta}).Meta}
}

// Example converts a PairToolRow back.
func (r *PairToolRow) Example() Example {
	e := (&Row{ID: r.ID, Meta: r.Meta}).Example()
	e.Messages = append(fromToolMessages(r.Prompt), fromToolMessages(r.Chosen)...)
	e.Rejected = fromToolMessages(r.Rejected)
	e.Tools = RawJSON(r.Tools)
	return e
}

// ToToolRow converts an example to a ToolRow.
func ToToolRow(e *Example) ToolRow {
	r := ToolRow{ID: e.ID, Tools: string(e.Tools), Meta: ToRow(&Example{Meta: e.Meta}).Meta,
		Messages: make([]ToolMessage, len(e.Messages))}
	for i, m := range e.Messages {
		r.Messages[i] = ToolMessage(m)
	}
	return r
}

// Example converts a ToolRow back.
func (r *ToolRow) Example() Example {
	e := (&Row{ID: r.ID, Meta: r.Meta}).Example()
	e.Tools = RawJSON(r.Tools)
	e.Messages = make([]Message, len(r.Messages))
	for i, m := range r.Messages {
		e.Messages[i] = Message(m)
	}
	return e
}

// ToPairRow converts a preference pair to a PairRow.
func ToPairRow(e *Example) PairRow {
	return PairRow{ID: e.ID, Prompt: e.Prompt(), Chosen: e.Chosen(), Rejected: e.Rejected, Meta: ToRow(&Example{Meta: e.Meta}).Meta}
}

// Example converts a PairRow back.
func (r *PairRow) Example() Example {
	e := (&Row{ID: r.ID, Meta: r.Meta}).Example()
	e.Messages = append(append([]Message(nil), r.Prompt...), r.Chosen...)
	e.Rejected = r.Rejected
	return e
}

// ParquetOptions configure a ParquetWriter.
type ParquetOptions struct {
	Compression compress.Codec // default Snappy
	// RowGroupBytes ends a row group when this many bytes of text are
	// buffered (default 64 MiB; the Hub asks for at most 100 MB).
	RowGroupBytes int64
	CreatedBy     string
	Layout        int // LayoutChat, LayoutTools, LayoutPairs or LayoutPairsTools
}

// rowWriter buffers and writes the rows of one layout.
type rowWriter interface {
	add(e *Example)
	drain() error
	flush() error
	close() error
}

type typedRows[T any] struct {
	w    *parquet.GenericWriter[T]
	buf  []T
	conv func(*Example) T
}

func (t *typedRows[T]) add(e *Example) { t.buf = append(t.buf, t.conv(e)) }
func (t *typedRows[T]) flush() error   { return t.w.Flush() }
func (t *typedRows[T]) close() error   { return t.w.Close() }

func (t *typedRows[T]) drain() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return err
	}
	clear(t.buf)
	t.buf = t.buf[:0]
	return nil
}

// ParquetWriter streams examples into one Parquet file.
type ParquetWriter struct {
	rows    rowWriter
	n       int
	pending int64
	opt     ParquetOptions
	Rows    int64
}

// NewParquetWriter writes Parquet to w.
func NewParquetWriter(w io.Writer, opt ParquetOptions) *ParquetWriter {
	if opt.Compression == nil {
		opt.Compression = FastSnappy{}
	}
	if opt.RowGroupBytes <= 0 {
		opt.RowGroupBytes = 64 << 20
	}
	opts := []parquet.WriterOption{parquet.Compression(opt.Compression), parquet.PageBufferSize(1 << 20)}
	if opt.Layout == LayoutChat || opt.Layout == LayoutTools {
		// Min/max of the message texts and roles help no query and cost a
		// byte comparison of every value.
		opts = append(opts, parquet.SkipPageBounds(contentPath...), parquet.SkipPageStatistics(contentPath...),
			parquet.SkipPageBounds(rolePath...), parquet.SkipPageStatistics(rolePath...))
	}
	if opt.CreatedBy != "" {
		opts = append(opts, parquet.CreatedBy(opt.CreatedBy, "", ""))
	}
	p := &ParquetWriter{opt: opt}
	switch opt.Layout {
	case LayoutTools:
		p.rows = &typedRows[ToolRow]{w: parquet.NewGenericWriter[ToolRow](w, opts...), conv: ToToolRow}
	case LayoutPairs:
		p.rows = &typedRows[PairRow]{w: parquet.NewGenericWriter[PairRow](w, opts...), conv: ToPairRow}
	case LayoutPairsTools:
		p.rows = &typedRows[PairToolRow]{w: parquet.NewGenericWriter[PairToolRow](w, opts...), conv: ToPairToolRow}
	default:
		p.rows = &typedRows[Row]{w: parquet.NewGenericWriter[Row](w, opts...), conv: ToRow}
	}
	return p
}

// Write adds one example.
func (p *ParquetWriter) Write(e *Example) error {
	p.rows.add(e)
	p.n++
	for _, m := range e.Messages {
		p.pending += int64(len(m.Content) + len(m.Role) + 16)
	}
	for _, m := range e.Rejected {
		p.pending += int64(len(m.Content) + len(m.Role) + 16)
	}
	p.pending += int64(len(e.ID) + len(e.Meta.Origin) + len(e.Tools) + 64)
	p.Rows++
	if p.n == 256 {
		if err := p.drain(); err != nil {
			return err
		}
	}
	if p.pending >= p.opt.RowGroupBytes {
		if err := p.drain(); err != nil {
			return err
		}
		if err := p.rows.flush(); err != nil {
			return fmt.Errorf("parquet: end row group: %w", err)
		}
		p.pending = 0
	}
	return nil
}

func (p *ParquetWriter) drain() error {
	p.n = 0
	if err := p.rows.drain(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// Close writes the footer (it does not close the underlying writer).
func (p *ParquetWriter) Close() error {
	if err := p.drain(); err != nil {
		return err
	}
	if err := p.rows.close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// ReadParquet streams the examples of a Parquet file written by tuneline,
// in any of its layouts. A file that is not Parquet, or is damaged, gives
// an error naming it.
func ReadParquet(ctx context.Context, path string) iter.Seq2[Example, error] {
	return func(yield func(Example, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(Example{}, fmt.Errorf("open dataset: %w", err))
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			yield(Example{}, fmt.Errorf("open dataset: %w", err))
			return
		}
		for ex, err := range readParquet(ctx, f, st.Size(), path) {
			if !yield(ex, err) {
				return
			}
		}
	}
}

// layoutOf tells a file's layout from its columns.
func layoutOf(s *parquet.Schema) int {
	if _, ok := s.Lookup("rejected", "list", "element", "content"); ok {
		if _, ok := s.Lookup("tools"); ok {
			return LayoutPairsTools
		}
		return LayoutPairs
	}
	if _, ok := s.Lookup("tools"); ok {
		return LayoutTools
	}
	return LayoutChat
}

// readParquet streams the examples of the Parquet data in r.
func readParquet(ctx context.Context, r io.ReaderAt, size int64, name string) iter.Seq2[Example, error] {
	return func(yield func(Example, error) bool) {
		var pf *parquet.File
		err := parquetSafely(func() error {
			if err := checkParquetFrame(r, size); err != nil {
				return err
			}
			var err error
			pf, err = parquet.OpenFile(r, size)
			return err
		})
		if err != nil {
			yield(Example{}, fmt.Errorf("%s: not a Parquet dataset: %w", name, err))
			return
		}
		switch layoutOf(pf.Schema()) {
		case LayoutPairs:
			readRows(ctx, pf, name, (*PairRow).Example, yield)
		case LayoutPairsTools:
			readRows(ctx, pf, name, (*PairToolRow).Example, yield)
		case LayoutTools:
			readRows(ctx, pf, name, (*ToolRow).Example, yield)
		default:
			readRows(ctx, pf, name, (*Row).Example, yield)
		}
	}
}

func readRows[T any](ctx context.Context, pf *parquet.File, name string, conv func(*T) Example, yield func(Example, error) bool) {
	var pr *parquet.GenericReader[T]
	if err := parquetSafely(func() error {
		pr = parquet.NewGenericReader[T](pf)
		return nil
	}); err != nil {
		yield(Example{}, fmt.Errorf("%s: not a Parquet dataset: %w", name, err))
		return
	}
	defer pr.Close()
	rows := make([]T, 128)
	for {
		if ctx.Err() != nil {
			yield(Example{}, ctx.Err())
			return
		}
		clear(rows)
		var n int
		err := parquetSafely(func() (err error) {
			n, err = pr.Read(rows)
			return err
		})
		for i := range n {
			if !yield(conv(&rows[i]), nil) {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(Example{}, fmt.Errorf("%s: %w", name, err))
			return
		}
	}
}

// checkParquetFrame checks the magic numbers and the footer's length
// before the library reads the footer: it allocates the length the file
// claims (up to 4 GB) before it finds that the file is shorter.
func checkParquetFrame(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes: too short for Parquet", size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return err
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(head[:]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return errors.New("no PAR1 magic number at its start and end")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("footer of %d bytes in a file of %d", n, size)
	}
	return nil
}

// parquetSafely runs f, turning a panic of the Parquet library (which
// panics on some malformed files instead of returning an error) into an
// error.
func parquetSafely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed Parquet: %v", p)
		}
	}()
	return f()
}
