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
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/envconfig"
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

const module = "github.com/tuneline/tuneline/"

// imports lists, per package folder, the module's packages its non-test
// files import.
func imports(t *testing.T) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for p, f := range goFiles(t) {
		dir := filepath.ToSlash(filepath.Dir(p))
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		for _, im := range f.Imports {
			if s, _ := strconv.Unquote(im.Path.Value); strings.HasPrefix(s, module) {
				out[dir][strings.TrimPrefix(s, module)] = true
			}
		}
	}
	return out
}

// stages are the stage packages of ARCHITECTURE.md's layers: none imports
// another. A new stage package joins this list.
var stages = []string{"ingest", "synth", "format", "modelfile", "eval", "memory", "report"}

// TestLayers checks the import rules ARCHITECTURE.md draws.
func TestLayers(t *testing.T) {
	im := imports(t)
	forbid := map[string][]string{
		"llm":     {"datasets"},      // the model client: no dataset code (nor parquet-go) in it
		"persona": {"internal/conf"}, // a domain type: no CLI library linked into it
		"report":  {"format"},        // report reads what it needs from datasets
	}
	for _, s := range stages {
		for _, o := range stages {
			if o != s {
				forbid[s] = append(forbid[s], o)
			}
		}
	}
	for pkg, bad := range forbid {
		for _, b := range bad {
			for dir, deps := range im {
				if (dir == pkg || strings.HasPrefix(dir, pkg+"/")) && (deps[b] || anyUnder(deps, b)) {
					t.Errorf("%s imports %s: ARCHITECTURE.md's layers forbid it", dir, b)
				}
			}
		}
	}
}

// anyUnder tells whether deps holds a package below dir.
func anyUnder(deps map[string]bool, dir string) bool {
	for d := range deps {
		if strings.HasPrefix(d, dir+"/") {
			return true
		}
	}
	return false
}

// TestEnvTable: every environment variable the code reads (os.Getenv,
// os.LookupEnv, envconfig.Get/Lookup with a literal name, a Config's env
// tag) is in internal/envconfig's table, which --help and the README show.
// Benchmarks and test support are not tuneline's interface.
func TestEnvTable(t *testing.T) {
	known := map[string]bool{}
	for _, v := range envconfig.Vars {
		known[v.Name] = true
	}
	envTag := regexp.MustCompile(`env:"([A-Z0-9_]+)"`)
	for p, f := range goFiles(t) {
		if strings.HasPrefix(p, "bench/") || strings.HasPrefix(p, "internal/testenv/") || strings.HasPrefix(p, "internal/memlimit/") {
			continue
		}
		check := func(name string) {
			if !known[name] {
				t.Errorf("%s reads $%s, which internal/envconfig's table does not list", p, name)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || len(n.Args) == 0 {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok || !(x.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") ||
					x.Name == "envconfig" && (sel.Sel.Name == "Get" || sel.Sel.Name == "Lookup")) {
					return true
				}
				if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					check(s)
				}
			case *ast.Field:
				if n.Tag != nil {
					for _, m := range envTag.FindAllStringSubmatch(n.Tag.Value, -1) {
						check(m[1])
					}
				}
			}
			return true
		})
	}
}

// TestAPIBranches: code branches on llm.APIOpenAI (==, !=, a case) in at
// most two files; the rest asks the API (llm.API, Config.OllamaHosts).
func TestAPIBranches(t *testing.T) {
	var files []string
	for p, f := range goFiles(t) {
		found := false
		isAPI := func(e ast.Expr) bool {
			switch e := e.(type) {
			case *ast.Ident:
				return e.Name == "APIOpenAI"
			case *ast.SelectorExpr:
				return e.Sel.Name == "APIOpenAI"
			}
			return false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				found = found || (n.Op == token.EQL || n.Op == token.NEQ) && (isAPI(n.X) || isAPI(n.Y))
			case *ast.CaseClause:
				for _, e := range n.List {
					found = found || isAPI(e)
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
		t.Errorf("APIOpenAI is branched on in %d files, want at most 2 (ask the llm.API instead): %v", len(files), files)
	}
}

// TestOneSizingOfWorkers: how many requests a stage keeps in flight on a
// backend is decided in llm alone (llm.Workers, which the stages'
// assembly functions call for the CLI and the workspace alike); a package
// that asks a backend for its Workers itself (a type assertion to an
// interface holding Workers) is a second definition of parallel.
func TestOneSizingOfWorkers(t *testing.T) {
	var files []string
	for p, f := range goFiles(t) {
		if strings.HasPrefix(p, "llm/") {
			continue
		}
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok {
				return !found
			}
			if it, ok := ta.Type.(*ast.InterfaceType); ok {
				for _, m := range it.Methods.List {
					for _, name := range m.Names {
						found = found || name.Name == "Workers"
					}
				}
			}
			return !found
		})
		if found {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	if len(files) > 0 {
		t.Errorf("a backend's Workers is asked outside llm in %v: call llm.Workers", files)
	}
}
