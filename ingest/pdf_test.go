package ingest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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

func scoreText(t testing.TB, ref, text string, normalize bool) (float64, string) {
	p := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(p, []byte(text), 0o644)
	args := []string{"../../shared/bench/score-text", ref, p}
	if normalize {
		args = append(args, "--normalize")
	}
	out, err := exec.Command("python3", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("score-text: %v\n%s", err, out)
	}
	line := strings.TrimSpace(string(out))
	r, _ := strconv.ParseFloat(strings.TrimPrefix(strings.Fields(line)[0], "ratio="), 64)
	return r, line
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
