package ingest

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const corpora = "../../shared/corpora/"

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
// with the shared scorer.
func scoreHTML(t testing.TB) (f1 float64, line string) {
	var gt map[string]struct {
		URL string `json:"url"`
	}
	b, err := os.ReadFile(corpora + "html-articles/ground-truth.json")
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &gt)
	out := map[string]map[string]string{}
	files, _ := filepath.Glob(corpora + "html-articles/html/*.html.gz")
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".html.gz")
		_, segs, _ := ExtractHTML(readGz(t, f), gt[id].URL)
		var parts []string
		for _, s := range segs {
			parts = append(parts, s.Text)
		}
		out[id] = map[string]string{"articleBody": strings.Join(parts, "\n\n")}
	}
	js, _ := json.Marshal(out)
	p := filepath.Join(t.TempDir(), "out.json")
	os.WriteFile(p, js, 0o644)
	res, err := exec.Command("python3", "../../shared/bench/score-html-articles", corpora+"html-articles/ground-truth.json", p).CombinedOutput()
	if err != nil {
		t.Fatalf("scorer: %v\n%s", err, res)
	}
	line = strings.TrimSpace(string(res))
	f1, _ = strconv.ParseFloat(strings.TrimPrefix(strings.Fields(line)[0], "f1="), 64)
	return f1, line
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
