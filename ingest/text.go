package ingest

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	atxHeading   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	fenceRe      = regexp.MustCompile("^(```|~~~)")
	mdLinkRe     = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdEmphasisRe = regexp.MustCompile(`(\*\*|__|\*|_|` + "`" + `)([^*_` + "`" + `]+)(\*\*|__|\*|_|` + "`" + `)`)
)

// ExtractMarkdown reads Markdown (or plain text, which has no headings):
// headings become sections, blank lines end paragraphs, code blocks are
// kept as they are, inline markup is removed.
func ExtractMarkdown(src string, markdown bool) (title string, segs []Segment) {
	if !utf8.ValidString(src) {
		// Invalid bytes become U+FFFD, as Extract does: the chunker's
		// tokens are bytes, and two invalid bytes either side of a space
		// came back as one valid rune with the space lost (found by
		// FuzzMarkdownChunks).
		src = strings.ToValidUTF8(src, "\uFFFD")
	}
	section := ""
	var para []string
	inFence := false
	flush := func() {
		if len(para) > 0 {
			t := strings.Join(para, " ")
			if markdown {
				t = mdLinkRe.ReplaceAllString(t, "$1")
				t = mdEmphasisRe.ReplaceAllString(t, "$2")
			}
			segs = append(segs, Segment{Text: t, Section: section, Break: true})
			para = nil
		}
	}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n"), "\n")
	for i, l := range lines {
		if markdown && fenceRe.MatchString(strings.TrimSpace(l)) {
			flush()
			inFence = !inFence
			continue
		}
		if inFence {
			segs = append(segs, Segment{Text: l, Section: section})
			continue
		}
		if markdown {
			if m := atxHeading.FindStringSubmatch(l); m != nil {
				flush()
				section = m[2]
				if title == "" && len(m[1]) == 1 {
					title = section
				}
				segs = append(segs, Segment{Text: section, Section: section, Heading: true})
				continue
			}
			// setext headings
			if i+1 < len(lines) && strings.TrimSpace(l) != "" && len(para) == 0 {
				if u := strings.TrimSpace(lines[i+1]); len(u) >= 3 && (strings.Trim(u, "=") == "" || strings.Trim(u, "-") == "") {
					section = strings.TrimSpace(l)
					if title == "" && u[0] == '=' {
						title = section
					}
					segs = append(segs, Segment{Text: section, Section: section, Heading: true})
					continue
				}
			}
			if u := strings.TrimSpace(l); len(u) >= 3 && (strings.Trim(u, "=") == "" || strings.Trim(u, "-") == "") && len(para) == 0 {
				continue // the underline of a setext heading
			}
		}
		t := strings.TrimSpace(l)
		if t == "" {
			flush()
			continue
		}
		if markdown && (strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "+ ")) {
			flush()
			t = t[2:]
		}
		para = append(para, t)
	}
	flush()
	if title == "" {
		for _, s := range segs {
			if t := strings.TrimSpace(s.Text); t != "" {
				title = firstWords(t, 12)
				break
			}
		}
	}
	return title, segs
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		return strings.Join(w[:n], " ") + "…"
	}
	return strings.Join(w, " ")
}
