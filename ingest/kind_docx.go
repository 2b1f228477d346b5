package ingest

// KindDOCX is a Word document (Office Open XML): word/document.xml with
// its footnotes, read as a stream within the container's budget.
const KindDOCX = "docx"

var kindDOCX = &inputKind{
	Name:   KindDOCX,
	Detect: func(s *sniff) bool { return s.zipKind() == KindDOCX },
	// Cost 0: the container charges what it inflates.
	Extract: func(d *Document, b []byte, _ *sniff, bud *Budget) (err error) {
		d.Title, d.Segments, err = ExtractDOCX(b, bud)
		return err
	},
}
