// Package ingest turns sources — PDFs, web pages, transcripts, Markdown and
// text, chat logs — into clean text with provenance and token-aware chunks.
// Each kind of source is one file (kind_<name>.go) with its detection and
// extractor; this package detects the kind, runs extractors in parallel and
// chunks what they return.
package ingest

import "github.com/tuneline/tuneline/datasets"

// Each kind of source is one value in kind_<name>.go (its name, detection,
// up-front cost and extractor), listed in detection order in kinds.go.

// Segment is a run of text from one place in a source: a paragraph of a
// page, a heading, a caption line.
type Segment struct {
	Text    string
	Section string // the heading the text is under
	Heading bool   // the segment is itself a heading
	// Break marks the start of a new paragraph.
	Break      bool
	Page       int     // 1-based; 0 when the source has no pages
	Start, End float64 // seconds into a recording; 0 when untimed
	Speaker    string
}

// Document is a source's extracted text.
type Document struct {
	Source   string // path or URL
	Kind     string
	Title    string
	DocID    string // content hash
	Pages    int
	Segments []Segment
	Warnings []string
}

// Chunk is a piece of a document sized for a prompt, with its provenance
// (the type lives with the other dataset types).
type Chunk = datasets.Chunk
