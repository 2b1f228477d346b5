package yamlerr

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// yaml.v3 counts some errors' lines from 0: Error names the right line
// for each kind.
func TestYAMLErrorLines(t *testing.T) {
	head := "name: a\nsystem: b\ntraits: [x]\nstyle: s\n"
	for _, tt := range []struct {
		doc  string
		line int
	}{
		{head + "audience: [a, b\n", 5},             // parser error (reported a line early by yaml.v3)
		{head + "audience: \"unclosed\n", 5},        // scanner error
		{head + "  bad: indent\n", 5},               // scanner error
		{head + "examples:\n  - q: 1\n  x: 2\n", 6}, // the list that starts on line 6 (the stray key is on 7)
	} {
		var v map[string]any
		err := yaml.Unmarshal([]byte(tt.doc), &v)
		if err == nil {
			t.Fatalf("%q parsed", tt.doc)
		}
		got := Error("p.yaml", err).Error()
		if !strings.HasPrefix(got, fmt.Sprintf("p.yaml:%d: ", tt.line)) {
			t.Errorf("%q: %s (yaml.v3: %v), want line %d", tt.doc, got, err, tt.line)
		}
	}
}
