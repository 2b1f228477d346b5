package trafilatura

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/go-shiori/dom"
	"github.com/tuneline/tuneline/third_party/trafilatura/internal/etree"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var basicCleaningSelector = strings.Join([]string{
	`aside`,
	`footer`,
	`div[id*="footer"]`,
	`div[class*="footer"]`,
	`script`,
	`style`,
}, ", ")

func basicCleaning(doc *html.Node) *html.Node {
	discardedElements := dom.QuerySelectorAll(doc, basicCleaningSelector)
	for i := len(discardedElements) - 1; i >= 0; i-- {
		discardedElements[i].Parent.RemoveChild(discardedElements[i])
	}
	return doc
}

// baseline uses baseline extraction function targeting text paragraphs and/or JSON metadata.
func baseline(doc *html.Node) (*html.Node, string) {
	var tmpText string
	postBody := etree.Element("body")
	if doc == nil {
		return postBody, ""
	}

	// Scrape JSON+LD for article body
	for _, script := range dom.QuerySelectorAll(doc, `script[type="application/ld+json"]`) {
		// Get the json text inside the script
		jsonLdText := dom.TextContent(script)
		jsonLdText = strings.TrimSpace(jsonLdText)
		jsonLdText = html.UnescapeString(jsonLdText)
		if jsonLdText == "" {
			continue
		}

		// Decode JSON text, assuming it is an object
		data := map[string]any{}
		err := json.Unmarshal([]byte(jsonLdText), &data)
		if err != nil {
			continue
		}

		// Find article body recursively
		var articleBody string
		var articleNode *html.Node
		var findArticleBody func(obj map[string]any)

		findArticleBody = func(obj map[string]any) {
			for key, value := range obj {
				switch v := value.(type) {
				case string:
					v = trim(v)
					if strings.ToLower(key) == "articlebody" && v != "" {
						if strings.Contains(v, "<p>") {
							tmp := dom.CreateElement("div")
							dom.SetInnerHTML(tmp, v)
							articleBody = trim(dom.TextContent(tmp))
							articleNode = tmp // tuneline: its paragraphs kept apart
						} else {
							articleBody = v
						}
						return
					}

				case map[string]any:
					findArticleBody(v)

				case []any:
					for _, item := range v {
						if obj, isObject := item.(map[string]any); isObject {
							findArticleBody(obj)
						}
					}
				}
			}
		}

		findArticleBody(data)
		if articleBody != "" {
			if articleNode != nil {
				dom.AppendChild(postBody, articleNode)
			} else {
				p := etree.SubElement(postBody, "p")
				etree.SetText(p, articleBody)
			}
			tmpText += " " + articleBody
		}
	}

	tmpText = trim(tmpText)
	if utf8.RuneCountInString(tmpText) > 100 {
		return postBody, tmpText
	}

	// Basic tree cleaning
	doc = basicCleaning(doc)

	// Scrape from article tag
	articleElement := dom.QuerySelector(doc, "article")
	if articleElement != nil {
		articleText := trim(dom.TextContent(articleElement))
		if utf8.RuneCountInString(articleText) > 100 {
			dom.AppendChild(postBody, dom.Clone(articleElement, true)) // tuneline: not its glued text
			tmpText += " " + articleText
		}
	}

	if len(dom.Children(postBody)) > 0 {
		tmpText = trim(tmpText)
		return postBody, tmpText
	}

	// tuneline: the fallbacks below keep copies of the page's elements, not
	// their text content, which glued paragraphs, list items, cells and
	// <br> lines together ("here.Second"); an element inside one already
	// taken (a <q> in a <p>) is not taken again; and the whole body replaces
	// the paragraphs found rather than being added after them, as in the
	// Python original (a page of one short paragraph came out twice).

	// Scrape from text paragraphs
	results := make(map[string]struct{})
	taken := make(map[*html.Node]bool)
	var tmpBuilder strings.Builder
	tmpBuilder.WriteString(tmpText)
	for _, element := range etree.Iter(doc, "blockquote", "pre", "q", "code", "p") {
		if insideTaken(element, taken) {
			continue
		}
		entry := trim(dom.TextContent(element))
		if _, exist := results[entry]; !exist && entry != "" {
			p := etree.SubElement(postBody, "p")
			dom.AppendChild(p, dom.Clone(element, true))
			tmpBuilder.WriteString(" " + entry)
			results[entry] = struct{}{}
			taken[element] = true
		}
	}

	tmpText = trim(tmpBuilder.String())
	if utf8.RuneCountInString(tmpText) > 100 {
		return postBody, tmpText
	}

	// Default strategy: clean the tree and take everything
	body := dom.QuerySelector(doc, "body")
	if body != nil {
		body = dom.Clone(body, true)
		openNoscript(body)
		text := trim(etree.IterText(body, " "))
		if utf8.RuneCountInString(text) > 100 || len(results) == 0 && text != "" {
			return body, text
		}
	}
	if len(results) > 0 {
		return postBody, tmpText
	}

	// New fallback
	text := trim(etree.IterText(doc, " "))
	postBody = etree.Element("body")
	for c := doc.FirstChild; c != nil; c = c.NextSibling {
		dom.AppendChild(postBody, dom.Clone(c, true))
	}
	return postBody, text
}

// insideTaken tells whether an ancestor of n was taken (tuneline).
func insideTaken(n *html.Node, taken map[*html.Node]bool) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if taken[p] {
			return true
		}
	}
	return false
}

// openNoscript replaces each <noscript> under root that holds markup as
// text (as a parser with scripting on leaves it) by that markup parsed, as
// a browser without scripts shows it: Blogger pages hold their post there
// (tuneline). One level only: a <noscript> inside is left as it is.
func openNoscript(root *html.Node) {
	for _, ns := range dom.GetElementsByTagName(root, "noscript") {
		if ns.FirstChild == nil || ns.FirstChild != ns.LastChild || ns.FirstChild.Type != html.TextNode || ns.Parent == nil {
			continue
		}
		div := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
		nodes, err := html.ParseFragment(strings.NewReader(ns.FirstChild.Data), div)
		if err != nil {
			continue
		}
		for _, n := range nodes {
			div.AppendChild(n)
		}
		ns.Parent.InsertBefore(div, ns)
		ns.Parent.RemoveChild(ns)
	}
}
