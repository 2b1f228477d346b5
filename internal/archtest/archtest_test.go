// Package archtest checks the rules ARCHITECTURE.md states about the
// code as a whole: where the names of a seam's members may be written,
// and which package may import which.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
)

// root is the module's folder.
const root = "../.."

// goFiles parses every non-test Go file of the module outside
// third_party and testdata, keyed by its path from the root.
func goFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	out := map[string]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "third_party", "testdata", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTargetNameLiterals: an export target's name is written as a Go
// string in at most two files (datasets names the formats; llm names its
// OpenAI API, which shares a name); everything else goes through
// format's registry.
func TestTargetNameLiterals(t *testing.T) {
	names := map[string]bool{}
	for _, n := range format.Targets {
		names[n] = true
	}
	var files []string
	for p, f := range goFiles(t) {
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && names[s] {
					found = true
				}
			}
			return !found
		})
		if found {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	if len(files) > 2 {
		t.Errorf("target names are written as strings in %d files, want at most 2 (use format.Lookup, format.TargetX or datasets.FormatX): %v", len(files), files)
	}
}
