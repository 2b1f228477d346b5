package ingest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/score"
	"github.com/tuneline/tuneline/internal/testenv"
)

var corpora = testenv.Corpus() + "/"

func readGz(t testing.TB, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scoreHTML extracts every page of the html-articles corpus and scores it
// as the benchmark does (internal/score: 4-token shingle F1 averaged over
// pages).
func scoreHTML(t testing.TB) (f1 float64, line string) {
	var gt map[string]struct {
		URL         string `json:"url"`
		ArticleBody string `json:"articleBody"`
	}
	b, err := os.ReadFile(corpora + "html-articles/ground-truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	var pages []score.PR
	for id, want := range gt {
		var got string
		if page, err := os.Stat(corpora + "html-articles/html/" + id + ".html.gz"); err == nil && !page.IsDir() {
			_, segs, _ := ExtractHTML(readGz(t, corpora+"html-articles/html/"+id+".html.gz"), want.URL)
			var parts []string
			for _, s := range segs {
				parts = append(parts, s.Text)
			}
			got = strings.Join(parts, "\n\n")
		}
		pages = append(pages, score.ShinglePR(want.ArticleBody, got))
	}
	f1, p, r := score.F1(pages)
	return f1, fmt.Sprintf("f1=%.4f precision=%.4f recall=%.4f pages=%d", f1, p, r, len(pages))
}

// Quality on the html-articles benchmark, scored by the shared scorer. The
// floor is the measured figure (BENCHMARKS.md): a regression fails.
func TestHTMLArticlesQuality(t *testing.T) {
	f1, line := scoreHTML(t)
	t.Log(line)
	if f1 < 0.97 {
		t.Errorf("html-articles %s; the target is 0.97", line)
	}
}
