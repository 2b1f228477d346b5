package ingest

import (
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
	_, segs, _, _, err := ExtractPDF(b)
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

func BenchmarkGeoTopo(b *testing.B) {
	data, err := os.ReadFile(corpora + "pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, _, _, err := ExtractPDF(data); err != nil {
			b.Fatal(err)
		}
	}
}
