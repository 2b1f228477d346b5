package ingest

import (
	"bytes"
	"strings"
)

// KindMarkdown is Markdown: headings become sections.
const KindMarkdown = "markdown"

var kindMarkdown = &inputKind{
	Name: KindMarkdown,
	Detect: func(s *sniff) bool {
		return s.ext == ".md" || s.ext == ".markdown" || strings.Contains(s.contentType, "markdown") || looksMarkdown(s.b)
	},
	Cost:    textCost,
	Extract: plainExtract,
}

// looksMarkdown tells Markdown by at least two ATX headings or fences in
// its first 8 KiB.
func looksMarkdown(b []byte) bool {
	n := 0
	for _, l := range bytes.Split(b[:min(len(b), 8192)], []byte("\n")) {
		if atxHeading.Match(l) || bytes.HasPrefix(l, []byte("```")) {
			n++
		}
	}
	return n >= 2
}
