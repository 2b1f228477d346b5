package ingest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tuneline/tuneline/internal/score"
)

// pdfText is the --emit text form of a PDF: paragraphs separated by blank
// lines.
func pdfText(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, segs, _, _, err := ExtractPDF(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, s := range segs {
		parts = append(parts, s.Text)
	}
	return strings.Join(parts, "\n\n") + "\n"
}

// scoreText is the indel ratio of text against the reference file (raw,
// or with white space folded), as the PDF-extraction benchmarks report it.
func scoreText(t testing.TB, ref, text string, normalize bool) (float64, string) {
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ToValidUTF8(string(b), "\uFFFD")
	text = strings.ToValidUTF8(text, "\uFFFD")
	if normalize {
		want, text = score.Normalize(want), score.Normalize(text)
	}
	r := score.IndelRatio(want, text)
	return r, fmt.Sprintf("ratio=%.4f ref_chars=%d out_chars=%d", r, utf8.RuneCountInString(want), utf8.RuneCountInString(text))
}

// Quality on the GeoTopo benchmark. The floor is the measured figure
// (BENCHMARKS.md): a regression fails.
func TestGeoTopoQuality(t *testing.T) {
	text := pdfText(t, corpora+"pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf")
	r, line := scoreText(t, corpora+"pdf-geotopo/ground-truth/GeoTopo-book.txt", text, false)
	t.Log(line)
	if r < 0.97 {
		t.Errorf("GeoTopo %s", line)
	}
}

// BenchmarkGeoTopo extracts GeoTopo, or the PDF named by
// TUNELINE_BENCH_PDF (a long manual: bench/ingest.sh fetches some).
func BenchmarkGeoTopo(b *testing.B) {
	path := corpora + "pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf"
	if p := os.Getenv("TUNELINE_BENCH_PDF"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, _, _, err := ExtractPDF(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// A damaged PDF is named as damaged, with where, and what may help; not
// with the parser's bare words ("invalid integer 1713...").
func TestDamagedPDFError(t *testing.T) {
	good, err := os.ReadFile(corpora + "pdf-samples/001-trivial/minimal-document.pdf")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	defer func() {
		if failed < 2 {
			t.Errorf("only %d of the damaged files failed: the test shows nothing", failed)
		}
	}()
	for _, damage := range []func([]byte) []byte{
		func(b []byte) []byte { // a number in the cross-reference table garbled
			i := bytes.LastIndex(b, []byte("startxref"))
			return append(append([]byte{}, b[:i]...), []byte("startxref\n1713x1\n%%EOF\n")...)
		},
		func(b []byte) []byte { return b[:len(b)/2] }, // cut in half
		func(b []byte) []byte { // the first object's number made non-numeric
			return bytes.Replace(b, []byte(" 0 obj"), []byte(" Z obj"), 1)
		},
	} {
		_, _, _, _, err := ExtractPDF(damage(good), nil)
		if err == nil {
			continue // the reader recovered: nothing to say
		}
		failed++
		if !strings.Contains(err.Error(), "the PDF is damaged") || strings.HasPrefix(err.Error(), "invalid integer") {
			t.Errorf("error %q does not say the file is damaged", err)
		}
		t.Log(err)
	}
}
