package ingest

import (
	"strings"
	"testing"
	"unicode"

	"github.com/tuneline/tuneline/tokens"
)

// FuzzMarkdownChunks: any text extracts and chunks without a panic, and
// no word of the extracted text is lost: each one that fits a chunk
// (white space aside) is
// in the chunks (looked for after the previous word first, then anywhere,
// since overlaps repeat words).
func FuzzMarkdownChunks(f *testing.F) {
	for _, s := range []string{
		"# Title\n\nFirst sentence. Second one! Third?\n\n## Part\n\n- item one\n- item two\n\n```\ncode\n```\n",
		"Dr. Smith arrived. e.g. this stays. A. B. Initials.\n\nA very long sentence " + strings.Repeat("word ", 80) + "ends.",
		"Heading\n=======\n\ntext *emph* [link](http://x) `code`\n\n> quote\n", "", "\n\n\n", "....!!!???",
		strings.Repeat("x", 300) + " end.",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	tc := tokens.NewCounter()
	f.Fuzz(func(t *testing.T, src string, markdown bool) {
		title, segs := ExtractMarkdown(src, markdown)
		d := &Document{Source: "fuzz.md", Kind: "markdown", Title: title, DocID: DocID([]byte(src)), Segments: segs}
		for _, opt := range []ChunkOptions{{Target: 12, Overlap: 4}, {Target: 512}} {
			chunks := ChunkDocument(d, opt, tc)
			var all strings.Builder
			for i, c := range chunks {
				if c.Seq != i || c.DocID != d.DocID || !strings.HasPrefix(c.ID, "ch-") {
					t.Fatalf("chunk %d: %+v", i, c)
				}
				if strings.TrimSpace(c.Text) == "" {
					t.Fatalf("chunk %d is empty", i)
				}
				all.WriteString(c.Text)
			}
			text := squeeze(all.String())
			pos := 0
			for _, s := range segs {
				if s.Heading {
					continue
				}
				for _, w := range strings.Fields(s.Text) {
					if tc.Count(w) > opt.Target-opt.Overlap {
						continue // an over-long word is split across chunks (TestLongWordChunks)
					}
					i := strings.Index(text[pos:], squeeze(w))
					if i < 0 {
						if !strings.Contains(text, squeeze(w)) {
							t.Fatalf("target %d: word %q of segment %q is in no chunk:\n%q", opt.Target, w, s.Text, all.String())
						}
						continue // repeated in an overlap before
					}
					pos += i
				}
			}
		}
	})
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// No chunk grows far past the target, however long a word is (a 10 MB run
// without spaces became a 1.25-million-token chunk).
func TestLongWordChunks(t *testing.T) {
	tc := tokens.NewCounter()
	long := strings.Repeat("abcdefghij0123456789", 100_000) // 2 MB, no spaces
	d := &Document{Source: "x.srt", Kind: "srt", DocID: "d", Segments: []Segment{{Text: "Before. " + long + " after."}}}
	chunks := ChunkDocument(d, ChunkOptions{Target: 200, Overlap: 0}, tc)
	total := 0
	for _, c := range chunks {
		if c.Tokens > 220 {
			t.Fatalf("chunk %d has %d tokens, target 200", c.Seq, c.Tokens)
		}
		total += len(c.Text)
	}
	if total < len(long) {
		t.Errorf("chunks hold %d bytes of the %d-byte word", total, len(long))
	}
}
