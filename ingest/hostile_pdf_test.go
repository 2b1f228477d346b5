package ingest

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tuneline/tuneline/ingest/internal/pdf"
	"github.com/tuneline/tuneline/internal/memlimit"
	"github.com/tuneline/tuneline/internal/pdfgen"
)

// buildPDF is pdfgen.Classic.
func buildPDF(objs []string, prev int) []byte { return pdfgen.Classic(objs, prev) }

const content = "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 712 Td (Hello world) Tj ET\nendstream"

// Hostile page trees and cross-reference chains end fast, with an error
// or without the bad part, never in a loop or out of memory.
func TestHostilePDFs(t *testing.T) {
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	for _, tt := range []struct {
		name string
		pdf  []byte
		err  string // "" when it may read (what it can)
	}{
		{"kids hold their own node", buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"}, 0), ""},
		{"a page is its own parent", buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", content}, 0), ""},
		{"xref /Prev points to itself", buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}, -1), "loops"},
		{"2^31 pages declared", buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 2147483647 >>"}, 0), "declares 2147483647 pages"},
		{"a sound one, for contrast", buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>", content, font}, 0), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			var segs []Segment
			go func() {
				var err error
				_, segs, _, _, err = ExtractPDF(tt.pdf, nil)
				done <- err
			}()
			select {
			case err := <-done:
				if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "damaged")) {
					t.Errorf("error %v, want it to say the PDF is damaged: %s", err, tt.err)
				}
				if tt.name == "a sound one, for contrast" && (err != nil || len(segs) == 0 || !strings.Contains(segs[0].Text, "Hello world")) {
					t.Errorf("the sound PDF: %v %+v", err, segs)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still reading after 5 s: a loop")
			}
		})
	}
}

// A small Flate stream that inflates far past what any page holds ends
// with an error on that page, not with the memory it would take.
func TestPDFInflateCap(t *testing.T) {
	defer func(old int64) { pdf.MaxStreamBytes = old }(pdf.MaxStreamBytes)
	pdf.MaxStreamBytes = 1 << 20
	var raw bytes.Buffer
	zw := zlib.NewWriter(&raw)
	for range 200_000 { // 8 MB of text operators
		zw.Write([]byte("BT (x) Tj ET\n" + strings.Repeat(" ", 26)))
	}
	zw.Close()
	stream := fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", raw.Len(), raw.Bytes())
	doc := buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", stream}, 0)
	_, _, _, warnings, err := ExtractPDF(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) == 0 || !strings.Contains(strings.Join(warnings, "\n"), "decompresses to more than 1 MB") {
		t.Errorf("warnings %v: want the page left out for its size", warnings)
	}
}

// buildObjStmPDF is pdfgen.ObjStm.
func buildObjStmPDF(stmDict, stmData string) []byte { return pdfgen.ObjStm(stmDict, stmData) }

// Object streams are read once per document, and hostile ones end: a
// chain of /Extends that loops, a header that claims more objects than it
// has, offsets past the end.
func TestHostileObjectStreams(t *testing.T) {
	pages := "<< /Type /Pages /Kids [] /Count 1 >>" // one page declared: read only through the stream
	for _, tt := range []struct {
		name, dict, data string
		err              string
	}{
		{"a sound one", "/N 1 /First 4", "2 0 " + pages, ""},
		{"extends itself", "/N 1 /First 4 /Extends 3 0 R", "9 0 " + pages, "damaged"},
		{"claims 2^31 objects", "/N 2147483647 /First 4", "2 0 " + pages, ""},
		{"offset past the end", "/N 1 /First 4", "2 9999 " + pages, "damaged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			var pages int
			go func() {
				var err error
				_, _, pages, _, err = ExtractPDF(buildObjStmPDF(tt.dict, tt.data), nil)
				done <- err
			}()
			select {
			case err := <-done:
				if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				if err == nil && pages != 1 {
					t.Errorf("%d pages: the page tree in the object stream was not read", pages)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still reading after 5 s")
			}
		})
	}
}

// hostileSizePDFs are PDFs of under a kilobyte whose size fields ask for
// terabytes: a predictor's /Columns, an xref stream's /Size, /W and
// /Index, and a classic xref subsection's start (issue 29, case 1). They
// are also fuzz seeds.
func hostileSizePDFs() map[string][]byte {
	const huge = "1099511627776" // 2^40
	xs := string(buildObjStmPDF("/N 1 /First 4", "2 0 << /Type /Pages /Kids [] /Count 1 >>"))
	classic := string(buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}, 0))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("\x02BT (x) Tj ET"))
	zw.Close()
	predicted := func(columns string) []byte {
		stream := fmt.Sprintf("<< /Length %d /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns %s >> >>\nstream\n%s\nendstream", z.Len(), columns, z.Bytes())
		return buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", stream}, 0)
	}
	return map[string][]byte{
		"xref stream /Size 2^40":    []byte(strings.Replace(xs, "/Size 5 /W [1 4 2]", "/Size "+huge+" /W [1 4 2]", 1)),
		"xref stream /Size -1":      []byte(strings.Replace(xs, "/Size 5 /W [1 4 2]", "/Size -1 /W [1 4 2]", 1)),
		"xref stream /W 2^40":       []byte(strings.Replace(xs, "/Size 5 /W [1 4 2]", "/Size 5 /W [1 "+huge+" 2]", 1)),
		"xref stream /Index 2^40":   []byte(strings.Replace(xs, "/Size 5 /W [1 4 2]", "/Size 5 /Index ["+huge+" 1] /W [1 4 2]", 1)),
		"xref subsection at 2^40":   []byte(strings.Replace(classic, "trailer\n", huge+" 1\n0000000009 00000 n \ntrailer\n", 1)),
		"xref subsection at -2":     []byte(strings.Replace(classic, "trailer\n", "-2 1\n0000000009 00000 n \ntrailer\n", 1)),
		"predictor /Columns 2^40":   predicted(huge),
		"predictor /Columns -5":     predicted("-5"),
		"predictor /Columns absent": predicted("1 /Colors 1"),
	}
}

// Every size read from a PDF is checked against the file before anything
// is allocated for it: each of these ends with an error (or its page left
// out with a warning) in a child limited to 1 GiB, where before they died
// with "runtime: out of memory".
func TestPDFSizeFieldsBounded(t *testing.T) {
	if !memlimit.Child(t, 1<<30) {
		return
	}
	for name, doc := range hostileSizePDFs() {
		t.Run(name, func(t *testing.T) {
			bud, cancel := NewBudget(context.Background(), int64(len(doc)), Limits{MemoryMB: 100, TimePerMB: time.Second})
			defer cancel()
			_, _, _, warnings, err := ExtractPDF(doc, bud)
			if err == nil && len(warnings) == 0 && !strings.Contains(name, "absent") {
				t.Errorf("read without an error or warning")
			}
			msg := fmt.Sprint(err, warnings)
			t.Log(msg)
			if strings.Contains(name, "2^40") && !strings.Contains(msg, "1099511627776") {
				t.Errorf("%s: want the field's value named", msg)
			}
		})
	}
}
