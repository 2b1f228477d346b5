package ingest

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/ingest/transcript"
)

// inputKind is one kind of source: how it is told from a source's bytes,
// what reading it costs up front and how it is read. Each kind is one value
// in its own file (kind_<name>.go); kinds lists them in detection order.
type inputKind struct {
	// Name is the kind as chunks, the summary and --json name it.
	Name string
	// Detect tells whether a source is of this kind. The first kind in
	// kinds whose Detect says yes is the source's kind.
	Detect func(s *sniff) bool
	// Cost is the bytes of memory charged per byte of the source before
	// Extract runs; 0 when Extract charges the budget as it reads.
	Cost int64
	// Extract reads the source into d (its Source, Kind and DocID set).
	// It may change d.Kind when the bytes turn out to be another kind.
	Extract func(d *Document, b []byte, s *sniff, bud *Budget) error
	// Examples marks a kind whose records become training examples as
	// they are (chat logs), not a document to chunk; Extract is nil.
	Examples bool
}

// kinds are the input kinds in the order they are tried: containers and
// magic bytes first, then what only markup or layout tells, text last.
// Adding a kind is one file plus one line here.
var kinds = []*inputKind{
	kindDOCX,
	kindEPUB,
	kindPDF,
	kindVTT,
	kindSRT,
	kindSBV,
	kindChat,
	kindHTML,
	kindMarkdown,
	kindTranscript,
	kindText, // detects everything: last
}

// kindNamed is the kind of the given name, or nil.
func kindNamed(name string) *inputKind {
	for _, k := range kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// sniff is what detection looks at: the source's name, content type and
// bytes, with the few derived views several kinds read, each made once.
type sniff struct {
	name, ext, contentType string
	b                      []byte
	trim                   []byte // the head, its BOM and leading space trimmed
	lower                  []byte // trim in lower case

	// zip and caption are zipKind's and transcript.Detect's answers, made
	// when a kind first asks (a sniff is used by one goroutine).
	zipDone, capDone bool
	zip, caption     string
}

func newSniff(name string, b []byte, contentType string) *sniff {
	head := b[:min(len(b), 2048)]
	trim := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	return &sniff{name: name, ext: strings.ToLower(filepath.Ext(name)), contentType: contentType,
		b: b, trim: trim, lower: bytes.ToLower(trim)}
}

// zipKind is the kind a ZIP container's entries tell, or "".
func (s *sniff) zipKind() string {
	if !s.zipDone {
		s.zip, s.zipDone = zipKind(s.b), true
	}
	return s.zip
}

// captions is the caption format transcript.Detect tells, or "".
func (s *sniff) captions() string {
	if !s.capDone {
		s.caption, s.capDone = transcript.Detect(s.b), true
	}
	return s.caption
}

// DetectKind tells the kind of a source from its content (magic bytes,
// markup), using the extension or content type only to break ties.
func DetectKind(name string, b []byte, contentType string) string {
	return detect(newSniff(name, b, contentType)).Name
}

func detect(s *sniff) *inputKind {
	for _, k := range kinds {
		if k.Detect(s) {
			return k
		}
	}
	return kindText
}

// Extract turns a source's bytes of the given kind into a document within
// the budget (nil: no limit). A kind with no extractor of its own (a chat
// log, an unknown name) is read as text.
func Extract(src string, b []byte, kind, contentType string, bud *Budget) (*Document, error) {
	k := kindNamed(kind)
	if k == nil || k.Extract == nil {
		k = kindText
	}
	return extract(k, kind, newSniff(src, b, contentType), bud)
}

// extract charges the kind's up-front cost and runs its extractor; kind is
// the name the document starts with.
func extract(k *inputKind, kind string, s *sniff, bud *Budget) (*Document, error) {
	if k.Cost > 0 { // held a number of times over at once
		if err := bud.Charge(k.Cost * int64(len(s.b))); err != nil {
			return nil, err
		}
	}
	d := &Document{Source: s.name, Kind: kind, DocID: DocID(s.b)}
	if err := k.Extract(d, s.b, s, bud); err != nil {
		return nil, err
	}
	return d, nil
}
