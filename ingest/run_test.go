package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

type memOut struct {
	chunks []Chunk
	texts  []string
	exs    []datasets.Example
}

func (m *memOut) Chunk(c Chunk) error              { m.chunks = append(m.chunks, c); return nil }
func (m *memOut) Text(d *Document, t string) error { m.texts = append(m.texts, t); return nil }
func (m *memOut) ChatExamples(src string, jsonl []byte) error {
	for _, line := range bytes.SplitAfter(jsonl, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ex datasets.Example
		if err := json.Unmarshal(line, &ex); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		m.exs = append(m.exs, ex)
	}
	return nil
}
func run(t *testing.T, opt Options, src ...string) (Summary, *memOut) {
	t.Helper()
	out := &memOut{}
	sum, err := Run(context.Background(), src, opt, out)
	if err != nil {
		t.Fatal(err)
	}
	return sum, out
}

// All 28 PDFs of pdf-samples ingest, or fail with a clear reason (only the
// encrypted one); page counts agree with the corpus's files.json.
func TestPDFSamples(t *testing.T) {
	var meta struct {
		Data []struct {
			Path      string
			Pages     int
			Encrypted bool
		}
	}
	b, err := os.ReadFile(corpora + "pdf-samples/files.json")
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &meta)
	pdfs, _ := filepath.Glob(corpora + "pdf-samples/*/*.pdf")
	if len(pdfs) != 28 {
		t.Fatalf("%d PDFs in pdf-samples, want 28", len(pdfs))
	}
	sum, out := run(t, Options{}, pdfs...)
	for _, r := range sum.Sources {
		rel := strings.TrimPrefix(r.Source, corpora+"pdf-samples/")
		if r.Error != "" {
			if !strings.Contains(rel, "password") || !strings.Contains(r.Error, "encrypted") {
				t.Errorf("%s: %s", rel, r.Error)
			}
			continue
		}
		if r.Kind != KindPDF {
			t.Errorf("%s: kind %s", rel, r.Kind)
		}
		for _, m := range meta.Data {
			if m.Path == rel && m.Pages != r.Pages {
				t.Errorf("%s: %d pages, files.json says %d", rel, r.Pages, m.Pages)
			}
		}
	}
	if sum.Documents != 27 || len(sum.Errors) != 1 {
		t.Errorf("%d documents, errors %v", sum.Documents, sum.Errors)
	}
	// Every chunk keeps its page, and no glyph came out undecoded.
	for _, c := range out.chunks {
		if c.PageStart < 1 || c.PageEnd < c.PageStart {
			t.Errorf("%s: chunk without pages: %+v", c.Source, c)
		}
		if strings.ContainsAny(c.Text, "\ufffdΩ\x00\x01\x02\x0b") {
			t.Errorf("%s: undecoded glyphs in %q", c.Source, c.Text)
		}
	}
	// The two-column LaTeX sample comes out column by column.
	for _, c := range out.chunks {
		if strings.Contains(c.Source, "multicolumn") && strings.Contains(c.Text, "Lorem") {
			return
		}
	}
}

// Every subtitle file ingests, with times and speakers in the chunks.
func TestSubtitlesIngest(t *testing.T) {
	sum, out := run(t, Options{}, corpora+"subtitles")
	for src, e := range sum.Errors {
		if !strings.HasSuffix(src, "LICENSE") && !strings.HasSuffix(src, "SOURCE.txt") {
			t.Errorf("%s: %s", src, e)
		}
	}
	var sintel []Chunk
	for _, c := range out.chunks {
		if strings.HasSuffix(c.Source, "sintel_en.srt") {
			sintel = append(sintel, c)
		}
	}
	if len(sintel) == 0 || sintel[0].TimeStart != 137.25 || sintel[len(sintel)-1].TimeEnd <= sintel[0].TimeStart || !strings.Contains(sintel[0].Text, "This blade has a dark past.") {
		t.Errorf("sintel chunks %+v", sintel)
	}
}

// Pages served over HTTP: fetched, decoded, extracted; redirects and
// content types checked.
func TestHTMLFromURL(t *testing.T) {
	page := readGz(t, corpora+"html-articles/html/042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856.html.gz")
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<html><head><title>Caf\xe9</title></head><body><article><p>Le caf\xe9 est tr\xe8s bon, et la cr\xe8me aussi. Nous parlons de physique et de thermodynamique ici.</p><p>Deuxi\xe8me paragraphe avec assez de texte pour \xeatre gard\xe9 par l'extracteur de contenu principal.</p></article></body></html>"))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sum, out := run(t, Options{}, srv.URL+"/article", srv.URL+"/latin1", srv.URL+"/loop", srv.URL+"/image")
	if sum.Documents != 2 {
		t.Fatalf("documents %d, errors %v", sum.Documents, sum.Errors)
	}
	if !strings.Contains(sum.Errors[srv.URL+"/loop"], "redirects") || !strings.Contains(sum.Errors[srv.URL+"/image"], "image/png") {
		t.Errorf("errors %v", sum.Errors)
	}
	var all strings.Builder
	for _, c := range out.chunks {
		all.WriteString(c.Text)
	}
	if !strings.Contains(all.String(), "Gaming used to be so simple.") || !strings.Contains(all.String(), "café est très bon") {
		t.Errorf("text %q", all.String())
	}
}

// Chat logs become examples, not chunks.
func TestChatLogsBecomeExamples(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "session.jsonl")
	os.WriteFile(log, []byte(`{"timestamp":"2025-01-01T10:00:00","query":"What is entropy?","response":"A count of microstates."}
{"timestamp":"2025-01-01T10:01:00","query":"And temperature?","response":"How entropy changes with energy."}
`), 0o644)
	sum, out := run(t, Options{}, log, corpora+"chat-samples/openai-cookbook/toy_chat_fine_tuning.jsonl")
	if len(out.chunks) != 0 || sum.Examples != 7 || len(out.exs) != 7 {
		t.Fatalf("chunks %d examples %d (%v)", len(out.chunks), len(out.exs), sum.Errors)
	}
	if out.exs[0].Messages[0].Content != "What is entropy?" || out.exs[0].Meta.Source != log {
		t.Errorf("example %+v", out.exs[0])
	}
}

// Re-ingesting unchanged sources gives identical chunk ids.
func TestStableChunkIDs(t *testing.T) {
	src := []string{corpora + "pdf-samples/026-latex-multicolumn", corpora + "subtitles/sintel"}
	_, a := run(t, Options{Workers: 1}, src...)
	_, b := run(t, Options{Workers: 4}, src...)
	if len(a.chunks) == 0 || len(a.chunks) != len(b.chunks) {
		t.Fatalf("%d vs %d chunks", len(a.chunks), len(b.chunks))
	}
	for i := range a.chunks {
		if a.chunks[i].ID != b.chunks[i].ID {
			t.Errorf("chunk %d: %s vs %s", i, a.chunks[i].ID, b.chunks[i].ID)
		}
	}
}

// Truncated, binary and mislabelled files: clear errors or the right kind.
func TestBrokenAndMislabelled(t *testing.T) {
	dir := t.TempDir()
	pdfBytes, _ := os.ReadFile(corpora + "pdf-samples/001-trivial/minimal-document.pdf")
	files := map[string][]byte{
		"truncated.pdf":     pdfBytes[:len(pdfBytes)/2],
		"binary.txt":        {0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7},
		"really-a-pdf.txt":  pdfBytes,
		"really-html.pdf":   []byte("<!DOCTYPE html><html><head><title>T</title></head><body><article><p>" + strings.Repeat("Physics explains motion and energy in simple terms. ", 20) + "</p></article></body></html>"),
		"really-srt.md":     []byte("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n"),
		"empty.txt":         {},
		"garbage-start.pdf": append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0x80, 0x00}, 100)...),
	}
	var srcs []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		srcs = append(srcs, p)
	}
	sum, _ := run(t, Options{}, srcs...)
	kinds := map[string]string{}
	for _, r := range sum.Sources {
		kinds[filepath.Base(r.Source)] = r.Kind
	}
	if kinds["really-a-pdf.txt"] != KindPDF || kinds["really-html.pdf"] != KindHTML || kinds["really-srt.md"] != KindSRT {
		t.Errorf("kinds %v", kinds)
	}
	for _, name := range []string{"truncated.pdf", "binary.txt", "garbage-start.pdf"} {
		if e := sum.Errors[filepath.Join(dir, name)]; e == "" {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestChunker(t *testing.T) {
	tc := tokens.NewCounter()
	var segs []Segment
	for i := range 40 {
		sec := "Intro"
		if i >= 20 {
			sec = "Methods"
		}
		segs = append(segs, Segment{Text: strings.Repeat("Entropy measures the number of microstates of a system. ", 3) + "Dr. Smith said so.", Section: sec, Break: true, Page: i/10 + 1})
	}
	d := &Document{Source: "x", DocID: "doc-1", Segments: segs}
	chunks := ChunkDocument(d, ChunkOptions{Target: 120, Overlap: 20}, tc)
	if len(chunks) < 8 {
		t.Fatalf("%d chunks", len(chunks))
	}
	for i, c := range chunks {
		if c.Tokens > 120+20 {
			t.Errorf("chunk %d has %d tokens", i, c.Tokens)
		}
		if !strings.HasSuffix(c.Text, ".") {
			t.Errorf("chunk %d does not end at a sentence: %q", i, c.Text)
		}
		if strings.Contains(c.Text, "Dr.\n") || strings.HasSuffix(c.Text, "Dr.") {
			t.Errorf("chunk %d split after an abbreviation", i)
		}
		if c.PageStart == 0 || c.PageEnd < c.PageStart {
			t.Errorf("chunk %d pages %d-%d", i, c.PageStart, c.PageEnd)
		}
		if i > 0 && chunks[i-1].Section == c.Section {
			// overlap: the chunk starts with sentences that ended the
			// previous chunk
			first := Sentences(c.Text)[0]
			if !strings.Contains(chunks[i-1].Text[len(chunks[i-1].Text)/2:], first) {
				t.Errorf("chunk %d has no overlap with chunk %d", i, i-1)
			}
		}
	}
	// no chunk mixes sections
	for _, c := range chunks {
		if c.Section == "Intro" && c.PageEnd > 2 {
			t.Errorf("Intro chunk reaches page %d", c.PageEnd)
		}
	}
}

func FuzzExtractPDF(f *testing.F) {
	// small real files with text, links, annotations, password and images
	for _, name := range []string{"001-trivial/minimal-document.pdf", "016-libre-office-link/libre-office-link.pdf",
		"024-annotations/annotated_pdf.pdf", "005-libreoffice-writer-password/libreoffice-writer-password.pdf",
		"007-imagemagick-images/imagemagick-ASCII85Decode.pdf"} {
		b, err := os.ReadFile(corpora + "pdf-samples/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"))
	// The hostile shapes of TestHostilePDFs: cycles in the page tree and
	// the xref chain, a declared page count the file cannot hold, one
	// page listed many times.
	cat := "<< /Type /Catalog /Pages 2 0 R >>"
	page := "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
	stream := "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 712 Td (Hello, hostile) Tj ET\nendstream"
	for _, doc := range [][]string{
		{cat, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"},
		{cat, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>", stream},
		{cat, "<< /Type /Pages /Kids [] /Count 2147483647 >>"},
		{cat, "<< /Type /Pages /Kids [3 0 R 3 0 R 3 0 R 3 0 R 3 0 R 3 0 R 3 0 R 3 0 R] /Count 8 >>", page, stream},
	} {
		f.Add(buildPDF(doc, 0))
	}
	f.Add(buildPDF([]string{cat, "<< /Type /Pages /Kids [] /Count 0 >>"}, -1))
	// object streams: sound, extending themselves (TestHostileObjectStreams)
	f.Add(buildObjStmPDF("/N 1 /First 4", "2 0 << /Type /Pages /Kids [] /Count 1 >>"))
	f.Add(buildObjStmPDF("/N 1 /First 4 /Extends 3 0 R", "9 0 << /Type /Pages /Kids [] /Count 1 >>"))
	// text that mentions the header near its start (TestKindSignatures)
	f.Add([]byte("# PDF notes\n\nEvery PDF starts with `%PDF-1.7` and ends with a trailer.\n"))
	// size fields asking for terabytes (TestPDFSizeFieldsBounded)
	for _, doc := range hostileSizePDFs() {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// must not panic or hang: an input that takes over 10 s fails
		var segs []Segment
		var pages int
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, segs, pages, _, err = ExtractPDF(data, nil)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("still reading after 10 s")
		}
		if err != nil {
			return
		}
		for _, s := range segs {
			if s.Page < 1 || s.Page > pages {
				t.Fatalf("segment on page %d of %d: %+v", s.Page, pages, s)
			}
			if !utf8.ValidString(s.Text) {
				t.Fatalf("segment text is not UTF-8: %q", s.Text)
			}
		}
	})
}

func FuzzExtractHTML(f *testing.F) {
	f.Add([]byte("<html><body><article><h1>T</h1><p>Some text here.</p></article></body></html>"))
	f.Add([]byte("<table><tr><td>a<td>b</table><script>x</script>"))
	// Hostile and awkward shapes: many paragraphs, a page declaring UTF-8
	// with invalid bytes, CSS and script in odd places, definition lists,
	// deep nesting.
	f.Add([]byte("<html><body><article>" + strings.Repeat("<p>word word word.</p>", 300) + "</article></body></html>"))
	f.Add([]byte("<html><head><meta charset=\"utf-8\"><title>T</title></head><body><p>caf\xe9 \xff\xfe text of the page here</p></body></html>"))
	f.Add([]byte("<svg><style>.a{b:c}</style></svg><p>text<style>p{x:y}</style> more text <noscript>n</noscript></p>"))
	f.Add([]byte("<dl><dt>Term</dt><dd><p>Definition one.</p><p>Two.</p></dd><dt></dt><dd>x</dd></dl>"))
	f.Add([]byte(strings.Repeat("<div>", 2000) + "deep" + strings.Repeat("</div>", 2000)))
	// Short pages through trafilatura's rescue (issue 29, case 13): one
	// paragraph, paragraphs with no space between the tags, <br> lines, a
	// <q> inside a <p>, JSON-LD's articleBody with paragraphs, no body.
	f.Add([]byte("<html><body><p>The only paragraph.</p></body></html>"))
	f.Add([]byte("<article><p>One.</p><p>Two.</p><p>Three.</p></article>"))
	f.Add([]byte("<p>Line one.<br>Line two.<br/><q>q</q></p><ul><li>a</li><li>b</li></ul><table><tr><td>c</td><td>d</td></tr></table>"))
	f.Add([]byte(`<script type="application/ld+json">{"articleBody":"<p>First.</p><p>Second.</p>"}</script>`))
	f.Add([]byte("<!-- c --><p>x</p>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// must not panic or hang: an input that takes over 10 s fails
		var title string
		var segs []Segment
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			title, segs, err = ExtractHTML(data, "")
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("still reading after 10 s")
		}
		if err != nil {
			return
		}
		if !utf8.ValidString(title) {
			t.Fatalf("title is not UTF-8: %q", title)
		}
		for _, s := range segs {
			if !utf8.ValidString(s.Text) || (!s.Heading && strings.TrimSpace(s.Text) == "") {
				t.Fatalf("segment %+v", s)
			}
		}
	})
}

func TestMarkdownSections(t *testing.T) {
	md := "# Thermodynamics\n\nIntro paragraph about heat.\n\n## Entropy\n\nEntropy counts **microstates**. See [the notes](http://x).\n\n- first point\n- second point\n\n```\ncode stays\n```\n\nSecond law\n----------\n\nHeat flows from hot to cold.\n"
	title, segs := ExtractMarkdown(md, true)
	if title != "Thermodynamics" {
		t.Errorf("title %q", title)
	}
	got := map[string]string{}
	for _, s := range segs {
		if !s.Heading {
			got[s.Text] = s.Section
		}
	}
	want := map[string]string{"Intro paragraph about heat.": "Thermodynamics", "Entropy counts microstates. See the notes.": "Entropy",
		"first point": "Entropy", "code stays": "Entropy", "Heat flows from hot to cold.": "Second law"}
	for text, sec := range want {
		if got[text] != sec {
			t.Errorf("%q in section %q, want %q (all %v)", text, got[text], sec, got)
		}
	}
}

// A transcript of 100,000 cues ingests in linear time (merging cues into
// paragraphs appended to a string: 145 s before, about 1 s now). The bound
// is a hang check, far above the measured time.
func TestManyCuesLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\nline %d of the talk about physics\n\n", i/3600, (i/60)%60, i%60, i/3600, (i/60)%60, i%60, i)
	}
	p := filepath.Join(t.TempDir(), "long.vtt")
	os.WriteFile(p, []byte(b.String()), 0o644)
	start := time.Now()
	sum, _ := run(t, Options{}, p)
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("100,000 cues took %v", took)
	}
	if sum.Chunks == 0 {
		t.Error("no chunks")
	}
}
