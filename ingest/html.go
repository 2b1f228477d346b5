package ingest

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tuneline/tuneline/third_party/trafilatura"
	"golang.org/x/net/html"
)

// HTML main-content extraction is go-trafilatura (third_party/trafilatura, a
// copy without the publish-date search; with its readability and
// dom-distiller fallbacks), chosen by measurement on the html-articles
// corpus scored with internal/score (the benchmark's shingle F1): go-trafilatura 0.966
// F1, go-readability 0.950. On its output tuneline removes the headline that
// trafilatura keeps at the top (the benchmark's article body excludes it)
// and trailing runs of teaser links (related stories), and keeps paragraph,
// heading, list and table structure for chunking. See BENCHMARKS.md.

// declaresUTF8 tells whether the page's first 4 KB declare UTF-8 (a meta
// charset or http-equiv content type).
func declaresUTF8(page []byte) bool {
	head := bytes.ToLower(page[:min(len(page), 4096)])
	return declUTF8.Match(head)
}

var declUTF8 = regexp.MustCompile(`<meta[^>]+charset\s*=\s*["']?\s*utf-?8`)

// blockTags end a paragraph.
var blockTags = map[string]bool{"p": true, "div": true, "li": true, "ul": true, "ol": true, "table": true, "tr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "pre": true, "blockquote": true,
	"section": true, "article": true, "br": true, "hr": true, "figure": true, "figcaption": true, "dl": true, "dt": true, "dd": true, "main": true}

// ExtractHTML returns the title and main content of a web page.
func ExtractHTML(page []byte, pageURL string) (title string, segs []Segment, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("HTML extraction failed: %v", r)
		}
	}()
	var u *url.URL
	if pageURL != "" {
		u, _ = url.Parse(pageURL)
	}
	opts := trafilatura.Options{OriginalURL: u, EnableFallback: true, ExcludeComments: true}
	var res *trafilatura.ExtractResult
	if utf8.Valid(page) || declaresUTF8(page) {
		// Parsed as UTF-8 straight away: the charset detection of the
		// generic path failed on some valid UTF-8 pages ("transform: short
		// internal buffer") and decoded a page that declares UTF-8 but
		// holds a few invalid bytes a second time as Windows-1252 (its
		// text came out twice). Invalid bytes become U+FFFD.
		doc, perr := html.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
		if perr != nil {
			return "", nil, fmt.Errorf("no main content found: %w", perr)
		}
		res, err = trafilatura.ExtractDocument(doc, opts)
	} else {
		res, err = trafilatura.Extract(bytes.NewReader(page), opts)
	}
	if err != nil {
		return "", nil, fmt.Errorf("no main content found: %w", err)
	}
	title = strings.TrimSpace(res.Metadata.Title)
	var blocks []Segment
	if res.ContentNode != nil {
		blocks = htmlSegments(res.ContentNode, "")
	}
	// Copyright and reprint notices are not content.
	kept := blocks[:0]
	for _, b := range blocks {
		if !isBoilerplate(b.Text) {
			kept = append(kept, b)
		}
	}
	blocks = kept
	// trafilatura keeps the headline (and sometimes repeats it): drop it.
	for len(blocks) > 0 && title != "" && (sameTitle(blocks[0].Text, title) || strings.HasPrefix(title, blocks[0].Text) && blocks[0].Heading) {
		blocks = blocks[1:]
	}
	if len(blocks) > 0 && title != "" && strings.HasPrefix(blocks[0].Text, title+" ") {
		blocks[0].Text = strings.TrimSpace(blocks[0].Text[len(title):])
	}
	if len(blocks) == 0 {
		return title, nil, fmt.Errorf("no main content found")
	}
	return title, blocks, nil
}

// titleFold folds the typographic variants a headline and its <title> may
// differ by: quotes, dashes, case and white space.
var titleFold = strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201c", "\"", "\u201d", "\"", "\u2013", "-", "\u2014", "-", "\u00a0", " ")

func normTitle(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(titleFold.Replace(s))), " ")
}

// sameTitle tells whether a block is the page's headline: the title
// itself, or one part of a title like "Opinion | Headline" or "Headline -
// Site name", allowing quote, dash and case variants.
func sameTitle(block, title string) bool {
	b, t := normTitle(block), normTitle(title)
	if b == "" {
		return false
	}
	if b == t {
		return true
	}
	for _, sep := range []string{" | ", " - ", " : ", ": ", " :: ", " » "} {
		for _, part := range strings.Split(t, sep) {
			if strings.TrimSpace(part) == b && len(b) >= 12 {
				return true
			}
		}
	}
	return false
}

var boilerplate = []string{"copyright", "non-commercial use", "reprints", "subscriber agreement", "cookie policy", "privacy policy"}

// isBoilerplate tells a short copyright, reprint or policy notice.
func isBoilerplate(t string) bool {
	if len(strings.Fields(t)) > 60 {
		return false
	}
	l := strings.ToLower(t)
	for _, b := range boilerplate {
		if strings.Contains(l, b) {
			return true
		}
	}
	return false
}

// htmlSegments is the text under root as paragraphs, headings (each
// starting a section, the first under the given one), list items, table
// rows and definitions; script and style are not text.
func htmlSegments(root *html.Node, section string) []Segment {
	var blocks []Segment
	var cur strings.Builder
	flush := func(heading bool) {
		t := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if t == "" {
			return
		}
		if heading {
			section = t
			blocks = append(blocks, Segment{Text: t, Section: section, Heading: true})
			return
		}
		blocks = append(blocks, Segment{Text: t, Section: section, Break: true})
	}
	term, hold := false, false // a <dt> waits for its <dd>
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			cur.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "noscript", "template":
				return
			}
		}
		block := n.Type == html.ElementNode && blockTags[n.Data]
		heading := block && len(n.Data) == 2 && n.Data[0] == 'h' && n.Data[1] >= '1' && n.Data[1] <= '6'
		if n.Type == html.ElementNode && n.Data == "dd" && term {
			// A definition goes on from its term: "Snapshot: A read-only
			// copy ...", so that the subject stays with its text.
			term = false
			cur.WriteString(": ")
			hold = true // a block inside (DocBook's <dd><p>) starts after the term
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			hold = false
			flush(false)
			return
		}
		if block && hold {
			hold = false
		} else if block {
			flush(false)
		}
		if n.Type == html.ElementNode && (n.Data == "td" || n.Data == "th") {
			cur.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode && n.Data == "dt" {
			term = strings.TrimSpace(cur.String()) != ""
			if term {
				return // the definition that follows joins it
			}
		}
		if block {
			flush(heading)
		}
	}
	walk(root)
	flush(false)
	return blocks
}
