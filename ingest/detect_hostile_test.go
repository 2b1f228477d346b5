package ingest

import (
	"strings"
	"testing"
)

// Kinds are told by real signatures, and text that only looks like a PDF
// or WebVTT at its start is read as text with a note (issue 29, case 14):
// Markdown mentioning %PDF- near its start was refused as a broken PDF,
// and "WEBVTT is ..." gave 0 tokens with exit 0.
func TestKindSignatures(t *testing.T) {
	for _, tt := range []struct {
		name, in   string
		kind, text string
	}{
		{"notes.md", "# PDF notes\n\nEvery PDF starts with `%PDF-1.7` and ends with a trailer.\n", KindMarkdown, "Every PDF starts with"},
		{"webvtt.txt", "WEBVTT is a text format for captions.\n\nIt is read by browsers.\n", KindText, "It is read by browsers"},
		{"mention.txt", "A file that says %PDF- in passing and then goes on.\n", KindText, "goes on"},
	} {
		kind := DetectKind(tt.name, []byte(tt.in), "")
		d, err := Extract(tt.name, []byte(tt.in), kind, "", nil)
		if err != nil {
			t.Errorf("%s: detected %s: %v", tt.name, kind, err)
			continue
		}
		var text strings.Builder
		for _, s := range d.Segments {
			text.WriteString(s.Text + "\n")
		}
		if !strings.Contains(text.String(), tt.text) || d.Kind == KindPDF || d.Kind == KindVTT {
			t.Errorf("%s: kind %s (detected %s), text %q, warnings %v", tt.name, d.Kind, kind, text.String(), d.Warnings)
		}
	}
	// a PDF behind 100 bytes of junk is still one
	pdf := append([]byte(strings.Repeat("x", 100)+"\n"), buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}, 0)...)
	if k := DetectKind("a.bin", pdf, ""); k != KindPDF {
		t.Errorf("a PDF after junk detected as %s", k)
	}
}
