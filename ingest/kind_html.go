package ingest

import (
	"bytes"
	"strings"
)

// KindHTML is a web page: its main content, without boilerplate.
const KindHTML = "html"

var kindHTML = &inputKind{
	Name: KindHTML,
	Detect: func(s *sniff) bool {
		return looksHTML(s.lower, s.ext) || strings.Contains(s.contentType, "html")
	},
	Cost: htmlCost,
	Extract: func(d *Document, b []byte, _ *sniff, _ *Budget) (err error) {
		url := ""
		if strings.HasPrefix(d.Source, "http") {
			url = d.Source
		}
		d.Title, d.Segments, err = ExtractHTML(b, url)
		return err
	},
}

// htmlStarts are the tags an HTML document begins with, each followed by
// a space, '>' or '/': the WHATWG MIME sniffing signatures but <a and <b,
// which text may begin with, plus the blocks a fragment starts with.
var htmlStarts = []string{"<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<h1", "<h2", "<h3",
	"<div", "<font", "<table", "<style", "<title", "<br", "<p", "<meta", "<link", "<article", "<section",
	"<main", "<header", "<nav", "<ul", "<ol", "<span", "<!--"}

// htmlMarks are what an HTML page holds somewhere near its start.
var htmlMarks = []string{"<!doctype html", "<html", "<head", "<body", "<article", "<p>", "<div"}

// looksHTML tells HTML by its signature: the content (lowered, leading
// space trimmed) begins with a tag a page begins with, or, for a file named
// .html, .htm or .xhtml, holds one of the page's tags near its start. Text
// or Markdown that only mentions <p> or <div> further on is not HTML (a
// .txt quoting a <p> came out as a page).
func looksHTML(lower []byte, ext string) bool {
	if bytes.HasPrefix(lower, []byte("<?xml")) {
		return true
	}
	for _, m := range htmlStarts {
		if rest, ok := bytes.CutPrefix(lower, []byte(m)); ok {
			if m == "<!--" && (ext == ".md" || ext == ".markdown") {
				break // a Markdown file may open with a comment
			}
			if m == "<!--" || m == "<!doctype html" || len(rest) == 0 || rest[0] == '>' || rest[0] == '/' || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' {
				return true
			}
		}
	}
	switch ext {
	case ".html", ".htm", ".xhtml", ".shtml":
		for _, m := range htmlMarks {
			if bytes.Contains(lower, []byte(m)) {
				return true
			}
		}
	}
	return false
}
