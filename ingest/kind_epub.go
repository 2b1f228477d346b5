package ingest

// KindEPUB is an EPUB book: its XHTML chapters in the order of the
// package's spine, within the container's budget.
const KindEPUB = "epub"

var kindEPUB = &inputKind{
	Name:   KindEPUB,
	Detect: func(s *sniff) bool { return s.zipKind() == KindEPUB },
	// Cost 0: the container charges what it inflates.
	Extract: func(d *Document, b []byte, _ *sniff, bud *Budget) (err error) {
		d.Title, d.Segments, err = ExtractEPUB(b, bud)
		return err
	},
}
