package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// KindPDF is a PDF, read page by page within the budget.
const KindPDF = "pdf"

var kindPDF = &inputKind{
	Name: KindPDF,
	Detect: func(s *sniff) bool {
		return bytes.HasPrefix(s.trim, []byte("%PDF-")) || pdfAfterJunk(s.b)
	},
	// Cost 0: pages are charged as they are read.
	Extract: func(d *Document, b []byte, _ *sniff, bud *Budget) error {
		var err error
		d.Title, d.Segments, d.Pages, d.Warnings, err = ExtractPDF(b, bud)
		if err != nil && !errors.Is(err, ErrBudget) && !bytes.HasPrefix(bytes.TrimLeft(b, "\x00\t\r\n "), []byte("%PDF-")) && utf8.Valid(b) {
			// Not a PDF after all: text that mentions the header.
			d.Kind, d.Pages = KindText, 0
			d.Title, d.Segments = ExtractMarkdown(string(b), looksMarkdown(b))
			d.Warnings = []string{fmt.Sprintf("read as text: it holds %%PDF- but is not a PDF (%v)", err)}
			return nil
		}
		return err
	},
}

// pdfAfterJunk tells a PDF whose header comes after other bytes (readers
// accept it within the first 1024): it also ends as a PDF does. Markdown
// that mentioned %PDF- near its start was refused as a broken PDF.
func pdfAfterJunk(b []byte) bool {
	return bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")) && bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF"))
}
