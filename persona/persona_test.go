package persona

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"ok", "name: ada\nsystem: |\n  You are Ada.\n  Be kind.\ntraits: [curious, precise]\nexamples:\n  - question: Why?\n    answer: Because.\n", ""},
		{"no name", "system: x\n", "name is missing"},
		{"no system", "name: x\n", "system is missing"},
		{"typo", "name: x\nsystem: y\nstyel: z\n", "field styel not found"},
		{"bad example", "name: x\nsystem: y\nexamples:\n  - question: q\n", "examples[0]"},
		{"empty", "", "the file is empty"},
		{"only a comment", "# nothing yet\n", "the file is empty"},
		{"bad yaml", "name: [x\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.in))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.System != "You are Ada.\nBe kind.\n" || len(p.Traits) != 2 || !strings.Contains(p.Voice(), "Example answer in this voice: Because.") {
					t.Errorf("%+v", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}

// A syntax error is named with the file and the line it is on (yaml.v3
// alone counts some from 0: "line 4" for line 5).
func TestLoadSyntaxErrorLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "persona.yaml")
	os.WriteFile(p, []byte("name: a\nsystem: b\ntraits: [x]\nstyle: s\naudience: [a, b\n"), 0o644)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":5: did not find expected ',' or ']'") {
		t.Errorf("error %v, want it at %s:5", err, p)
	}
}
