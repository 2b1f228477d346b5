package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"unicode/utf8"

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
	Example(datasets.Example) error
}

type result struct {
	res    SourceResult
	doc    *Document
	chunks []Chunk
	text   string
	exs    []datasets.Example
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
			for _, ex := range r.exs {
				if err := out.Example(ex); err != nil {
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
	data, contentType, err := load(ctx, src, opt)
	if err != nil {
		r.res.Error = err.Error()
		return r
	}
	if err := bud.Hold(int64(len(data)) - size); err != nil {
		r.res.Error = err.Error()
		return r
	}
	cancel := bud.Start(ctx, int64(len(data)))
	defer cancel()
	kind := DetectKind(src, data, contentType)
	r.res.Kind = kind
	if kind == KindChat {
		r = chatExamples(src, data, r, opt.GoodOnly, bud)
		r.bud = bud
		return r
	}
	d, err := within(bud, func() (*Document, error) { return Extract(src, data, kind, contentType, bud) })
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

// pdfAfterJunk tells a PDF whose header comes after other bytes (readers
// accept it within the first 1024): it also ends as a PDF does. Markdown
// that mentioned %PDF- near its start was refused as a broken PDF.
func pdfAfterJunk(b []byte) bool {
	return bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")) && bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF"))
}

// DetectKind tells the kind of a source from its content (magic bytes,
// markup), using the extension or content type only to break ties.
func DetectKind(name string, b []byte, contentType string) string {
	head := b[:min(len(b), 2048)]
	trim := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	lower := bytes.ToLower(trim)
	ext := strings.ToLower(filepath.Ext(name))
	if k := zipKind(b); k != "" {
		return k
	}
	switch {
	case bytes.HasPrefix(trim, []byte("%PDF-")) || pdfAfterJunk(b):
		return KindPDF
	case bytes.HasPrefix(trim, []byte("WEBVTT")):
		return KindVTT
	}
	if k := transcript.Detect(b); k != "" {
		switch k {
		case transcript.KindSRT:
			if ext == ".vtt" {
				return KindVTT
			}
			return KindSRT
		case transcript.KindSBV:
			return KindSBV
		default:
			return KindVTT
		}
	}
	if (len(trim) > 0 && (trim[0] == '{' || trim[0] == '[')) && isChatLog(b) {
		return KindChat
	}
	if looksHTML(lower, ext) || strings.Contains(contentType, "html") {
		return KindHTML
	}
	if ext == ".md" || ext == ".markdown" || strings.Contains(contentType, "markdown") || looksMarkdown(b) {
		return KindMarkdown
	}
	if transcript.IsSpeakerText(b) {
		return KindTranscript
	}
	return KindText
}

// htmlStarts are the tags an HTML document begins with, each followed by
// a space, '>' or '/': the WHATWG MIME sniffing signatures but <a and <b,
// which text may begin with, plus the blocks a fragment starts with.
var htmlStarts = []string{"<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<h1", "<h2", "<h3",
	"<div", "<font", "<table", "<style", "<title", "<br", "<p", "<meta", "<link", "<article", "<section",
	"<main", "<header", "<nav", "<ul", "<ol", "<span", "<!--"}

// htmlMarks are what an HTML page holds somewhere near its start.
var htmlMarks = []string{"<!doctype html", "<html", "<head", "<body", "<article", "<p>", "<div"}

// looksHTML tells HTML by its signature: the content (lowered, leading
// space trimmed) begins with a tag a page begins with, or, for a file named
// .html, .htm or .xhtml, holds one of the page's tags near its start. Text
// or Markdown that only mentions <p> or <div> further on is not HTML (a
// .txt quoting a <p> came out as a page).
func looksHTML(lower []byte, ext string) bool {
	if bytes.HasPrefix(lower, []byte("<?xml")) {
		return true
	}
	for _, m := range htmlStarts {
		if rest, ok := bytes.CutPrefix(lower, []byte(m)); ok {
			if m == "<!--" && (ext == ".md" || ext == ".markdown") {
				break // a Markdown file may open with a comment
			}
			if m == "<!--" || m == "<!doctype html" || len(rest) == 0 || rest[0] == '>' || rest[0] == '/' || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' {
				return true
			}
		}
	}
	switch ext {
	case ".html", ".htm", ".xhtml", ".shtml":
		for _, m := range htmlMarks {
			if bytes.Contains(lower, []byte(m)) {
				return true
			}
		}
	}
	return false
}

func looksMarkdown(b []byte) bool {
	n := 0
	for _, l := range bytes.Split(b[:min(len(b), 8192)], []byte("\n")) {
		if atxHeading.Match(l) || bytes.HasPrefix(l, []byte("```")) {
			n++
		}
	}
	return n >= 2
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

// Extract turns a source's bytes into a document within the budget (nil:
// no limit).
func Extract(src string, b []byte, kind, contentType string, bud *Budget) (*Document, error) {
	d := &Document{Source: src, Kind: kind, DocID: DocID(b)}
	var err error
	switch kind {
	case KindPDF, KindDOCX, KindEPUB: // charged as they are read
	default: // held a number of times over at once
		cost := int64(textCost)
		if kind == KindHTML {
			cost = htmlCost
		}
		if err := bud.Charge(cost * int64(len(b))); err != nil {
			return nil, err
		}
	}
	switch kind {
	case KindPDF:
		d.Title, d.Segments, d.Pages, d.Warnings, err = ExtractPDF(b, bud)
		if err != nil && !errors.Is(err, ErrBudget) && !bytes.HasPrefix(bytes.TrimLeft(b, "\x00\t\r\n "), []byte("%PDF-")) && utf8.Valid(b) {
			// Not a PDF after all: text that mentions the header.
			d.Kind, d.Pages = KindText, 0
			d.Title, d.Segments = ExtractMarkdown(string(b), looksMarkdown(b))
			d.Warnings = []string{fmt.Sprintf("read as text: it holds %%PDF- but is not a PDF (%v)", err)}
			err = nil
		}
	case KindHTML:
		url := ""
		if strings.HasPrefix(src, "http") {
			url = src
		}
		d.Title, d.Segments, err = ExtractHTML(b, url)
	case KindDOCX:
		d.Title, d.Segments, err = ExtractDOCX(b, bud)
	case KindEPUB:
		d.Title, d.Segments, err = ExtractEPUB(b, bud)
	case KindVTT, KindSRT, KindSBV, KindTranscript:
		if !utf8.Valid(b) && bytes.IndexByte(b, 0) >= 0 {
			return nil, errors.New("binary data, not a transcript")
		}
		lines, probs := transcript.Parse(b, map[string]string{KindVTT: transcript.KindWebVTT, KindSRT: transcript.KindSRT,
			KindSBV: transcript.KindSBV, KindTranscript: transcript.KindText}[kind])
		for _, p := range probs {
			d.Warnings = append(d.Warnings, p.String())
		}
		d.Segments = transcriptSegments(lines)
		d.Title = strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
		if len(lines) == 0 && kind == KindVTT && len(bytes.Fields(b)) > 1 && utf8.Valid(b) {
			// "WEBVTT is a format..." starts as WebVTT does but has no cue:
			// it gave 0 tokens and exit 0.
			d.Kind = KindText
			d.Title, d.Segments = ExtractMarkdown(string(b), looksMarkdown(b))
			d.Warnings = append(d.Warnings, "read as text: it starts with WEBVTT but holds no cue")
		}
	default:
		if !utf8.Valid(b) {
			if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
				return nil, errors.New("a ZIP container that is neither DOCX nor EPUB (OpenDocument?) is not supported; export it to DOCX, PDF, HTML or text first")
			}
			if bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0 {
				return nil, errors.New("binary file of an unknown type (not PDF, HTML, transcript, Markdown, text or chat log)")
			}
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
		d.Title, d.Segments = ExtractMarkdown(string(b), kind == KindMarkdown)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
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
		// Its examples are held until the log's turn to be written: they
		// are charged to its budget as they are decoded (a 43 MB log took
		// 1.18 GB with no budget).
		if err := bud.Charge(chatCost * int64(len(raw.Data))); err != nil {
			r.exs, r.res.Error = nil, fmt.Sprintf("%s: %v", raw.Pos, err)
			return r
		}
		rec := raw.Decode()
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
			if ex.Meta.Extra == nil {
				ex.Meta.Extra = map[string]string{}
			}
			ex.Meta.Extra["log_id"] = ex.ID
		}
		ex.ID = datasets.ContentID(ex.KeyMessages())
		r.exs = append(r.exs, ex)
	}
	r.res.Examples = len(r.exs)
	if skipped > 0 {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%d turns not rated good left out (--good-only)", skipped))
	}
	if len(r.exs) == 0 && skipped == 0 {
		r.res.Error = "chat log with no usable example"
	}
	return r
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

func (o *JSONOutput) Example(ex datasets.Example) error {
	if o.Examples == nil {
		return fmt.Errorf("%s is a chat log: its conversations become examples; pass --examples FILE to keep them", Quote(ex.Meta.Source))
	}
	return writeJSONLine(o.Examples, ex)
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
