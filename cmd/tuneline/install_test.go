package main

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

// `go install MODULE/cmd/tuneline@VERSION` refuses a main module with
// replace or exclude directives: go.mod must have none.
func TestGoModInstallable(t *testing.T) {
	f, err := os.Open(testenv.Root() + "/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "replace") || strings.HasPrefix(line, "exclude") {
			t.Errorf("go.mod:%d: %q: go install MODULE@VERSION refuses it", n, line)
		}
	}
}
