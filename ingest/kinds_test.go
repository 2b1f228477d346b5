package ingest

import (
	"archive/zip"
	"bytes"
	"os"
	"testing"
)

// TestKindRegistry checks every row of the input-kind registry: a name
// used once, a detection, an extractor (or examples), and text last, since
// it claims everything.
func TestKindRegistry(t *testing.T) {
	seen := map[string]bool{}
	for i, k := range kinds {
		switch {
		case k.Name == "" || k.Detect == nil:
			t.Errorf("kind %d: no name or detection", i)
		case seen[k.Name]:
			t.Errorf("kind %q listed twice", k.Name)
		case k.Examples == (k.Extract != nil):
			t.Errorf("kind %q: wants exactly one of an extractor and Examples", k.Name)
		}
		seen[k.Name] = true
		if kindNamed(k.Name) != k {
			t.Errorf("kindNamed(%q) is another kind", k.Name)
		}
	}
	if kinds[len(kinds)-1] != kindText {
		t.Errorf("the last kind is %q, want text (it detects everything)", kinds[len(kinds)-1].Name)
	}
}

func zipWith(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEveryKindDetected gives each kind a small source of its own and
// checks that detection, in the registry's order, names that kind and that
// the kind's extractor reads it.
func TestEveryKindDetected(t *testing.T) {
	pdf, err := os.ReadFile("../examples/physics-expert/sources/light-and-waves.pdf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, name string
		in         []byte
		wantText   string // a word the document holds
	}{
		{KindPDF, "a.bin", pdf, "light"},
		{KindDOCX, "a.bin", zipWith(t, "word/document.xml", `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Kepler</w:t></w:r></w:p></w:body></w:document>`), "Kepler"},
		{KindEPUB, "a.bin", zipWith(t, "META-INF/container.xml", `<container/>`), ""},
		{KindVTT, "a.txt", []byte("WEBVTT\n\n00:00.000 --> 00:02.000\nOrbits are ellipses.\n"), "ellipses"},
		{KindVTT, "a.vtt", []byte("1\n00:00:00,000 --> 00:00:02,000\nSRT cues named vtt.\n"), "cues"},
		{KindSRT, "a.srt", []byte("1\n00:00:00,000 --> 00:00:02,000\nOrbits are ellipses.\n"), "ellipses"},
		{KindSBV, "a.sbv", []byte("0:00:00.000,0:00:02.000\nOrbits are ellipses.\n"), "ellipses"},
		{KindChat, "a.jsonl", []byte(`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}` + "\n"), ""},
		{KindHTML, "a.bin", []byte("<!doctype html><html><body><article><p>Orbits are ellipses with the sun at one focus, as Kepler found.</p></article></body></html>"), "Kepler"},
		{KindMarkdown, "a.md", []byte("# Orbits\n\nOrbits are ellipses.\n"), "ellipses"},
		{KindTranscript, "a.txt", []byte("Alice: Orbits are ellipses.\nBob: Why is that?\nAlice: Gravity falls off as the square.\n"), "ellipses"},
		{KindText, "a.txt", []byte("Orbits are ellipses.\n"), "ellipses"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			if got := DetectKind(tt.name, tt.in, ""); got != tt.kind {
				t.Fatalf("DetectKind = %q, want %q", got, tt.kind)
			}
			if tt.wantText == "" {
				return
			}
			d, err := Extract(tt.name, tt.in, tt.kind, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains([]byte(DocumentText(d)), []byte(tt.wantText)) {
				t.Errorf("the document does not hold %q: %q", tt.wantText, DocumentText(d))
			}
		})
	}
}
