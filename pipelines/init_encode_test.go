package pipelines

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/persona"
)

// --persona-name and --name are encoded, never pasted raw: a name with a
// quote and a newline wrote an invalid persona.yaml or one with keys of
// its own (issue 29, case 12).
func TestInitEncodesNames(t *testing.T) {
	for _, name := range []string{
		`Ada "the" Lovelace`,
		"Ada\nstyle: injected",
		"Ada: #1 'expert' |\n\n  indented\ttab",
		"  padded  ",
	} {
		dir := t.TempDir()
		if _, err := Init(dir, InitOptions{Name: name + "\nbuild: /etc", PersonaName: name}); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		p, err := persona.Load(filepath.Join(dir, "persona.yaml"))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		want := strings.TrimSpace(name)
		if p.Name != want || !strings.HasPrefix(p.System, "You are "+want+", an expert") || p.Style == "injected" {
			t.Errorf("%q: read back name %q, system %q, style %q", name, p.Name, p.System, p.Style)
		}
		cfg, err := Load(dir)
		if err != nil {
			t.Fatalf("%q: tuneline.yaml: %v", name, err)
		}
		if cfg.Build == "/etc" {
			t.Errorf("%q: the workspace name set build: /etc", name)
		}
	}
	if _, err := Init(t.TempDir(), InitOptions{PersonaName: "bell\a"}); err == nil {
		t.Error("a control character was written into persona.yaml")
	}
}
