package ingest

import (
	"strings"
	"testing"
)

// Short pages come out once and in their paragraphs (issue 29, case 13):
// trafilatura's rescue for pages under 250 characters added the whole
// body's text after the paragraphs it had already taken (a page of one
// paragraph came out twice) and took elements' text content, which glues
// paragraphs, items, cells and <br> lines with no space between the tags
// ("here.Second"). A post that Blogger holds in <noscript> is read as a
// browser without scripts shows it.
func TestShortHTMLOnceAndApart(t *testing.T) {
	for _, tt := range []struct {
		name, page string
		want       []string
	}{
		{"one paragraph", "<html><body><p>This is the only paragraph of this page, with a few words in it.</p></body></html>",
			[]string{"This is the only paragraph of this page, with a few words in it."}},
		{"glued paragraphs", "<html><body><article><p>First paragraph ends here.</p><p>Second paragraph starts here.</p><p>Third one.</p></article></body></html>",
			[]string{"First paragraph ends here.", "Second paragraph starts here.", "Third one."}},
		{"article over 100", "<html><body><article><p>" + strings.Repeat("Alpha beta gamma. ", 5) + "</p><p>" + strings.Repeat("Delta epsilon zeta. ", 5) + "</p></article></body></html>",
			[]string{strings.TrimSpace(strings.Repeat("Alpha beta gamma. ", 5)), strings.TrimSpace(strings.Repeat("Delta epsilon zeta. ", 5))}},
		{"divs", "<html><body><div>A first block of text about rivers.</div><div>A second block of text about mills.</div></body></html>",
			[]string{"A first block of text about rivers.", "A second block of text about mills."}},
		{"list", "<html><body><ul><li>Item one of the list.</li><li>Item two of the list.</li></ul></body></html>",
			[]string{"Item one of the list.", "Item two of the list."}},
		{"br lines", "<html><body><p>Line one of a short poem.<br>Line two of the poem.</p></body></html>",
			[]string{"Line one of a short poem.", "Line two of the poem."}},
		{"quote in paragraph", "<html><body><p>She said <q>come home soon</q> and left the room.</p></body></html>",
			[]string{"She said come home soon and left the room."}},
		{"post in noscript", "<html><body><noscript><div><p>A post shown without scripts.</p><p>Its second paragraph.</p></div></noscript></body></html>",
			[]string{"A post shown without scripts.", "Its second paragraph."}},
		{"no body", "<p>Just a fragment with a paragraph.</p><p>And another.</p>",
			[]string{"Just a fragment with a paragraph.", "And another."}},
	} {
		_, segs, err := ExtractHTML([]byte(tt.page), "")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, s := range segs {
			got = append(got, s.Text)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// A .txt or Markdown file that quotes a <p> or <div> further on is text,
// read whole (it was taken for a page: only the quoted paragraph was kept,
// twice); a document that begins as a page does is HTML whatever its name.
func TestHTMLBySignature(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		kind     string
	}{
		{"notes.txt", "Some notes.\n<p>A paragraph tag in a text file.</p>\nMore notes after it.\n", KindText},
		{"page.md", "# Layout\n\nWrap it in a <div class=\"x\"> and close it.\n", KindMarkdown},
		{"comment.md", "<!-- lint off -->\n# Title\n\nText.\n", KindMarkdown},
		{"angle.txt", "<a few words> in angle brackets\n", KindText},
		{"page.txt", "  <p>A page saved with the wrong name.</p>", KindHTML},
		{"page", "<!DOCTYPE html><title>x</title><p>y</p>", KindHTML},
		{"page.bin", "\xef\xbb\xbf\n<html lang=\"en\"><body>z</body></html>", KindHTML},
		{"saved.html", "Saved from the web\n<html><body><p>text</p></body></html>", KindHTML},
		{"feed.xml", "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>x</p></body></html>", KindHTML},
	} {
		if k := DetectKind(tt.name, []byte(tt.in), ""); k != tt.kind {
			t.Errorf("%s: detected %s, want %s", tt.name, k, tt.kind)
		}
	}
	in := "Some notes.\n<p>A paragraph tag in a text file.</p>\nMore notes after it.\n"
	d, err := Extract("notes.txt", []byte(in), DetectKind("notes.txt", []byte(in), ""), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	text := DocumentText(d)
	if !strings.Contains(text, "Some notes.") || !strings.Contains(text, "More notes after it.") || strings.Count(text, "A paragraph tag") != 1 {
		t.Errorf("notes.txt read as %q", text)
	}
}
