// Command htmlcompare scores tuneline's HTML extraction and go-trafilatura
// alone (the copy in third_party, with the options tuneline gives it) on
// trafilatura's comparison set: pages this project never tuned on, each
// annotated with snippets the main content must hold ("with") and must
// not ("without"). The pages and annotations come with the
// go-trafilatura module (test-files/, scripts/comparison/data.go); the
// score is the one its comparison script computes.
//
//	go mod download github.com/markusmobius/go-trafilatura@v1.12.2
//	go run ./bench/htmlcompare [-dir $(go env GOMODCACHE)/github.com/markusmobius/go-trafilatura@v1.12.2]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/third_party/trafilatura"
)

type entry struct {
	url, file     string
	with, without []string
}

type counts struct{ tp, fn, fp, tn int }

func (c *counts) add(e entry, text string) {
	for _, s := range e.with {
		if text != "" && strings.Contains(text, s) {
			c.tp++
		} else {
			c.fn++
		}
	}
	for _, s := range e.without {
		if text != "" && strings.Contains(text, s) {
			c.fp++
		} else {
			c.tn++
		}
	}
}

func (c counts) String() string {
	tp, fn, fp, tn := float64(c.tp), float64(c.fn), float64(c.fp), float64(c.tn)
	return fmt.Sprintf("precision %.3f  recall %.3f  accuracy %.3f  F-score %.3f  (tp %d fn %d fp %d tn %d)",
		tp/(tp+fp), tp/(tp+fn), (tp+tn)/(tp+tn+fp+fn), 2*tp/(2*tp+fp+fn), c.tp, c.fn, c.fp, c.tn)
}

func main() {
	dir := flag.String("dir", "", "the go-trafilatura v1.12.2 module folder (default: in the module cache)")
	flag.Parse()
	if *dir == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		check(err)
		*dir = filepath.Join(strings.TrimSpace(string(out)), "github.com/markusmobius/go-trafilatura@v1.12.2")
	}
	entries := readData(filepath.Join(*dir, "scripts/comparison/data.go"))
	var tl, gt counts
	pages, missing := 0, 0
	for _, e := range entries {
		page, err := os.ReadFile(filepath.Join(*dir, "test-files/comparison", e.file))
		if err != nil {
			page, err = os.ReadFile(filepath.Join(*dir, "test-files/mock", e.file))
		}
		if err != nil {
			missing++
			continue
		}
		pages++
		gt.add(e, alone(page, e.url))
		_, segs, err := ingest.ExtractHTML(page, e.url)
		var b strings.Builder
		if err == nil {
			for _, s := range segs {
				b.WriteString(s.Text + "\n")
			}
		}
		tl.add(e, b.String())
	}
	fmt.Printf("trafilatura's comparison set: %d pages (%d annotated pages missing)\n", pages, missing)
	fmt.Printf("tuneline             %s\n", tl)
	fmt.Printf("go-trafilatura alone %s\n", gt)
}

// alone is go-trafilatura's main text with the options tuneline uses.
func alone(page []byte, pageURL string) (text string) {
	defer func() {
		if recover() != nil {
			text = ""
		}
	}()
	u, _ := url.Parse(pageURL)
	doc, err := html.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
	if err != nil {
		return ""
	}
	res, err := trafilatura.ExtractDocument(doc, trafilatura.Options{OriginalURL: u, EnableFallback: true, ExcludeComments: true})
	if err != nil {
		return ""
	}
	return res.ContentText
}

// readData reads the comparisonData map literal of data.go.
func readData(path string) []entry {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	check(err)
	var out []entry
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok1 := kv.Key.(*ast.BasicLit)
		val, ok2 := kv.Value.(*ast.CompositeLit)
		if !ok1 || !ok2 || key.Kind != token.STRING {
			return true
		}
		e := entry{url: unquote(key.Value)}
		for _, el := range val.Elts {
			f, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			switch f.Key.(*ast.Ident).Name {
			case "File":
				e.file = unquote(f.Value.(*ast.BasicLit).Value)
			case "With":
				e.with = strs(f.Value)
			case "Without":
				e.without = strs(f.Value)
			}
		}
		if e.file != "" {
			out = append(out, e)
		}
		return false
	})
	return out
}

func strs(x ast.Expr) []string {
	var out []string
	if cl, ok := x.(*ast.CompositeLit); ok {
		for _, el := range cl.Elts {
			if bl, ok := el.(*ast.BasicLit); ok {
				out = append(out, unquote(bl.Value))
			}
		}
	}
	return out
}

func unquote(s string) string {
	u, err := strconv.Unquote(s)
	check(err)
	return u
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "htmlcompare:", err)
		os.Exit(1)
	}
}
