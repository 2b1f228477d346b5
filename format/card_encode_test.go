package format

import (
	"strings"
	"testing"
)

// --name is text in the card, not Markdown: a name with a newline, a
// heading and HTML added them to README.md (issue 29, case 12).
func TestCardNameEncoded(t *testing.T) {
	card := string(DatasetCard(Options{Name: "Ada\n# Injected heading\n<script>alert(1)</script> [link](http://x)"}, &Report{}))
	body := card[strings.Index(card, "\n---\n")+5:]
	for _, bad := range []string{"\n# Injected", "<script>", "](http://x)"} {
		if strings.Contains(body, bad) {
			t.Errorf("the card's body holds %q:\n%s", bad, body[:min(len(body), 300)])
		}
	}
	if !strings.Contains(body, `# Ada \# Injected heading \<script\>alert\(1\)\</script\> \[link\]\(http://x\)`) {
		t.Errorf("the heading does not hold the name as text:\n%s", body[:min(len(body), 300)])
	}
	if !strings.Contains(card, `pretty_name: "Ada\n# Injected heading`) {
		t.Errorf("front matter's pretty_name is not the quoted name")
	}
}
