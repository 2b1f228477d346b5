package ingest

import (
	"runtime"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/tokens"
)

// A document's title, section and speaker are repeated in every one of its
// chunks, so each is cut to maxLabel bytes: a text of one 20 MB word was
// its own title, and its chunks made 54 GB of output before the disk was
// full (found by bench/hostile.sh). Here a Markdown heading and first line
// of 300 KB; the chunks' labels together must stay far below the text.
func TestChunkLabelsBounded(t *testing.T) {
	word := strings.Repeat("a", 300_000)
	for _, tt := range []struct{ name, in, kind string }{
		{"one-word.txt", word + "\n", KindText},
		{"heading.md", "# " + word + "\n\n" + word + "\n", KindMarkdown},
		{"words.md", "# " + strings.Repeat("ab ", 100_000) + "\n\nsome text under it.\n", KindMarkdown},
	} {
		d, err := Extract(tt.name, []byte(tt.in), tt.kind, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		chunks := ChunkDocument(d, ChunkOptions{}, tokens.NewCounter())
		labels := 0
		for _, c := range chunks {
			for _, l := range []string{c.Title, c.Section, c.Speaker} {
				if len(l) > maxLabel {
					t.Errorf("%s: chunk %d has a label of %d bytes", tt.name, c.Seq, len(l))
				}
				labels += len(l)
			}
		}
		if labels > 3*maxLabel*len(chunks) || len(chunks) == 0 {
			t.Errorf("%s: %d chunks with %d bytes of labels", tt.name, len(chunks), labels)
		}
		if c := chunks[0]; c.Title != "" && !strings.HasSuffix(c.Title, "…") {
			t.Errorf("%s: the cut title %q does not say it was cut", tt.name, c.Title[max(0, len(c.Title)-20):])
		}
	}
	if got := clipLabel("short title"); got != "short title" {
		t.Errorf("a short label changed: %q", got)
	}
	if got := clipLabel(strings.Repeat("é", 400)); len(got) > maxLabel || !strings.HasSuffix(got, "é…") {
		t.Errorf("cut inside a rune or too long: %d bytes, ends %q", len(got), got[len(got)-6:])
	}
}

// A word far longer than a chunk is cut without being counted whole:
// byte-pair encoding one piece of 20 MB took 20 s and 1.3 GB (found by
// bench/hostile.sh). Here a word of 4 MB, held to what cutting it needs.
func TestLongWordNotCountedWhole(t *testing.T) {
	d, err := Extract("w.txt", []byte("Title line.\n\n"+strings.Repeat("a", 4<<20)+"\n"), KindText, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	chunks := ChunkDocument(d, ChunkOptions{Target: 512}, tokens.NewCounter())
	runtime.ReadMemStats(&after)
	if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20 {
		t.Errorf("allocated %d MiB cutting a 4 MB word", a>>20)
	}
	if len(chunks) < 1000 {
		t.Errorf("%d chunks of a 4 MB word", len(chunks))
	}
}
