package tokens

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCountMatchesLibrary(t *testing.T) {
	cases := []string{
		"", "hello", "Hello world", "  leading", "trailing  ", "a\n\nb", "a \n \n b",
		"don't I'll we'RE they've", "'s'S'ſ", "x'K", "1234567 89", "٣٤٥ numbers",
		"emoji 😀😀 and 中文字符", "tabs\tand\r\nCRLF\r\n\r\n", "...!!! ?? -- ",
		"  \u00a0 nbsp\u2028line\u3000ideo", "a  b   c    d", "über Straße", "x\u0301y",
		"code: func(){ return 1+2 }\n\tnext", "\n", " ", "   ", " \n", "'", "'r", "'ll'", " !\n\n",
	}
	c := NewCounter()
	for _, s := range cases {
		if got, want := c.Count(s), LibraryCount(s); got != want {
			t.Errorf("Count(%q) = %d, library says %d", s, got, want)
		}
	}
}

// TestCorpusMatchesLibrary compares whole real files, message by message.
func TestCorpusMatchesLibrary(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpora/chat-samples/*/*.json*")
	if len(files) == 0 {
		t.Fatal("no chat-samples corpus at ../../shared/corpora")
	}
	c := NewCounter()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.SplitAfter(string(b), "\n") {
			if got, want := c.Count(line), LibraryCount(line); got != want {
				t.Errorf("%s:%d: Count = %d, library %d", f, i+1, got, want)
			}
		}
	}
}

func FuzzCountMatchesLibrary(f *testing.F) {
	for _, s := range []string{"hello world", "don't\n\n  x", "12345 😀 'LL", "\u00a0\u2028 a"} {
		f.Add(s)
	}
	c := NewCounter()
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := c.Count(s), LibraryCount(s); got != want {
			t.Fatalf("Count(%q) = %d, library says %d", s, got, want)
		}
	})
}

func BenchmarkCount(b *testing.B) {
	data, err := os.ReadFile("../../shared/corpora/chat-samples/llama-factory/dpo_en_demo.json")
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	b.Run("fast", func(b *testing.B) {
		c := NewCounter()
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			c.Count(s)
		}
	})
	b.Run("library", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			LibraryCount(s)
		}
	})
}
