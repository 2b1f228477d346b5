package envconfig

import (
	"os"
	"strings"
	"testing"
)

// TestREADME: the README's table is this table (TUNELINE_UPDATE_README=1
// writes it).
func TestREADME(t *testing.T) {
	const begin, end = "<!-- env table: internal/envconfig -->\n", "<!-- end env table -->"
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q block", begin, end)
	}
	if got := s[i+len(begin) : j]; got != Markdown() {
		if os.Getenv("TUNELINE_UPDATE_README") != "" {
			os.WriteFile("../../README.md", []byte(s[:i+len(begin)]+Markdown()+s[j:]), 0o644)
			return
		}
		t.Errorf("README.md's table of environment variables differs from envconfig.Vars (TUNELINE_UPDATE_README=1 go test ./internal/envconfig writes it):\n%s", Markdown())
	}
}

func TestGetPanicsOnUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Get of a name not in the table did not panic")
		}
	}()
	Get("TUNELINE_NOT_A_VARIABLE")
}
