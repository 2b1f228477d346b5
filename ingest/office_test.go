package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/score"
)

// DOCX and EPUB files made by pandoc from one Markdown source, and the
// DOCX saved again by LibreOffice (its own XML, footnote ids from 2): the kind is
// detected from the content, headings become sections, the list, the table
// and the footnotes come out, and the text scores against pandoc's own
// plain-text rendering of the source.
func TestOfficeDocuments(t *testing.T) {
	want, err := os.ReadFile(corpora + "office/source.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, kind string }{{"glaciers.docx", KindDOCX}, {"glaciers.epub", KindEPUB}, {"glaciers-libreoffice.docx", KindDOCX}} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(corpora + "office/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if k := DetectKind("renamed.bin", b, ""); k != tt.kind {
				t.Fatalf("detected %q", k)
			}
			d, err := Extract(tt.file, b, tt.kind, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.Title != "Field Notes on Glaciers" {
				t.Errorf("title %q", d.Title)
			}
			var text strings.Builder
			sections := map[string]string{}
			for _, s := range d.Segments {
				text.WriteString(s.Text + "\n")
				sections[s.Text[:min(len(s.Text), 30)]] = s.Section
			}
			got := text.String()
			row := "Aletsch | 20 | 200"
			if tt.kind == KindEPUB { // the HTML walker joins cells with spaces
				row = "Aletsch 20 200"
			}
			words := []string{"stakes near the centre move fastest", row, "Firn is snow that has survived",
				"Moraines left by retreating ice"}
			if tt.kind == KindDOCX { // numbered as Word shows them, whatever the ids
				words = append(words, "dense blue ice.[1]", "[1] Firn is snow", "past climates.[2]", "[2] Moraines left")
			}
			for _, w := range words {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for start, sec := range map[string]string{"Surveyors place stakes in a li": "Measuring flow", "A glacier advances when winter": "Glaciers and climate",
				"Ice deforms slowly under press": "How glaciers move"} {
				if sections[start] != sec {
					t.Errorf("%q is under section %q, want %q", start, sections[start], sec)
				}
			}
			pr := score.ShinglePR(string(want), got)
			f1, _, _ := score.F1([]score.PR{pr})
			t.Logf("%s: shingle F1 %.3f against the source's plain text", tt.kind, f1)
			if f1 < 0.85 {
				t.Errorf("F1 %.3f against the source, want at least 0.85", f1)
			}
		})
	}
}

// A ZIP container that decompresses past the budget, or has too many
// entries, ends with an error naming the limit, quickly.
func TestOfficeBudget(t *testing.T) {
	defer func(n int64) { zipMaxBytes = n }(zipMaxBytes)
	zipMaxBytes = 4 << 20
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	zeros := make([]byte, 1<<20)
	for range zipMaxBytes>>20 + 1 {
		w.Write(zeros)
	}
	zw.Close()
	if _, _, err := ExtractDOCX(buf.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "decompresses to more than") {
		t.Errorf("bomb: %v", err)
	}
	buf.Reset()
	zw = zip.NewWriter(&buf)
	for i := range zipMaxEntries + 1 {
		zw.Create(fmt.Sprintf("f%d", i))
	}
	zw.Close()
	if _, _, err := ExtractEPUB(buf.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "entries, over the limit") {
		t.Errorf("many entries: %v", err)
	}
}

// Whatever the container holds, extraction ends without a panic or a hang.
func FuzzExtractOffice(f *testing.F) {
	for _, name := range []string{"glaciers.docx", "glaciers.epub", "glaciers-libreoffice.docx"} {
		b, err := os.ReadFile(corpora + "office/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch zipKind(b) {
		case KindDOCX:
			ExtractDOCX(b, nil)
		case KindEPUB:
			ExtractEPUB(b, nil)
		}
	})
}
