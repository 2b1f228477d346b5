package ingest

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// KindText is plain text, and whatever no other kind claims.
const KindText = "text"

var kindText = &inputKind{
	Name:    KindText,
	Detect:  func(*sniff) bool { return true },
	Cost:    textCost,
	Extract: plainExtract,
}

// plainExtract reads text or Markdown (by the document's kind); binary data
// of an unknown type is refused, stray invalid bytes replaced.
func plainExtract(d *Document, b []byte, _ *sniff, _ *Budget) error {
	if !utf8.Valid(b) {
		if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			return errors.New("a ZIP container that is neither DOCX nor EPUB (OpenDocument?) is not supported; export it to DOCX, PDF, HTML or text first")
		}
		if bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0 {
			return errors.New("binary file of an unknown type (not PDF, HTML, transcript, Markdown, text or chat log)")
		}
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	d.Title, d.Segments = ExtractMarkdown(string(b), d.Kind == KindMarkdown)
	return nil
}
