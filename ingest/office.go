package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"golang.org/x/net/html"
)

// DOCX and EPUB are ZIP containers of XML: Office Open XML's
// word/document.xml (with footnotes.xml beside it), and EPUB's XHTML
// chapters in the order of the package's spine. Headings become sections,
// lists and tables text, footnotes are kept. A container's budget: at most
// zipMaxEntries entries and zipMaxBytes decompressed bytes read in all.

const zipMaxEntries = 20000

// zipMaxBytes is the decompressed bytes a container may read (tests lower
// it).
var zipMaxBytes int64 = 512 << 20

// zipKind tells a DOCX or an EPUB from a ZIP container's entries, or "".
func zipKind(b []byte) string {
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return ""
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) > zipMaxEntries {
		return ""
	}
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			return KindDOCX
		case "META-INF/container.xml":
			return KindEPUB
		}
	}
	return ""
}

// container reads a ZIP's entries within the budget.
type container struct {
	files map[string]*zip.File
	left  int64 // decompressed bytes the budget still allows
	bud   *Budget
}

func openContainer(b []byte, bud *Budget) (*container, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a readable ZIP container: %w", err)
	}
	if len(zr.File) > zipMaxEntries {
		return nil, fmt.Errorf("the container has %d entries, over the limit of %d", len(zr.File), zipMaxEntries)
	}
	c := &container{files: map[string]*zip.File{}, left: zipMaxBytes, bud: bud}
	for _, f := range zr.File {
		c.files[f.Name] = f
	}
	return c, nil
}

// read returns an entry's bytes, nil when there is none.
func (c *container) read(name string) ([]byte, error) {
	f := c.files[name]
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Quote(name), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, c.left+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Quote(name), err)
	}
	if int64(len(b)) > c.left {
		return nil, fmt.Errorf("%s: the container decompresses to more than %d MB", Quote(name), zipMaxBytes>>20)
	}
	c.left -= int64(len(b))
	if err := c.bud.Charge(containerCost * int64(len(b))); err != nil {
		return nil, err
	}
	return b, nil
}

// ExtractDOCX returns the title and text of a Word document.
func ExtractDOCX(b []byte, bud *Budget) (title string, segs []Segment, err error) {
	c, err := openContainer(b, bud)
	if err != nil {
		return "", nil, err
	}
	doc, err := c.read("word/document.xml")
	if err != nil || doc == nil {
		return "", nil, errors.Join(errors.New("no word/document.xml: not a DOCX document"), err)
	}
	notes, err := c.read("word/footnotes.xml")
	if err != nil {
		return "", nil, err
	}
	if core, _ := c.read("docProps/core.xml"); core != nil {
		title = xmlElementText(core, "title")
	}
	nums := map[string]int{} // footnote id → the number Word shows
	segs, docTitle, err := docxSegments(doc, "", nums)
	if err != nil {
		return "", nil, fmt.Errorf("word/document.xml: %w", err)
	}
	if title == "" {
		title = docTitle
	}
	if notes != nil {
		ns, _, err := docxSegments(notes, "Footnotes", nums)
		if err != nil {
			return "", nil, fmt.Errorf("word/footnotes.xml: %w", err)
		}
		segs = append(segs, ns...)
	}
	if len(segs) == 0 {
		return title, nil, errors.New("the document has no text")
	}
	return title, segs, nil
}

// docxSegments reads the paragraphs of a WordprocessingML part: a
// paragraph styled Heading N or Title starts a section, a numbered one is
// a list item, a table row is its cells' text joined by " | ", a footnote
// reference is [N] and a footnote is "[N] its text", N counting the
// references in the order they come (as Word numbers them; the ids are
// not the numbers: LibreOffice's start at 2).
func docxSegments(part []byte, section string, nums map[string]int) (segs []Segment, title string, err error) {
	number := func(id string) int {
		if _, ok := nums[id]; !ok {
			nums[id] = len(nums) + 1
		}
		return nums[id]
	}
	d := xml.NewDecoder(bytes.NewReader(part))
	var para, cell strings.Builder
	var cells []string
	style, list, inTable := "", false, 0
	emit := func(t string, heading bool) {
		t = strings.Join(strings.Fields(t), " ")
		if t == "" {
			return
		}
		if heading {
			section = t
			if title == "" && strings.EqualFold(style, "title") {
				title = t
			}
		}
		segs = append(segs, Segment{Text: t, Section: section, Heading: heading, Break: !heading})
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return segs, title, nil
		}
		if err != nil {
			return nil, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para.Reset()
				style, list = "", false
			case "pStyle":
				style = attr(t, "val")
			case "numPr":
				list = true
			case "t":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return nil, "", err
				}
				para.WriteString(s)
			case "tab":
				para.WriteString("\t")
			case "br", "cr":
				para.WriteString(" ")
			case "footnoteReference":
				fmt.Fprintf(&para, "[%d]", number(attr(t, "id")))
			case "footnote":
				if typ := attr(t, "type"); typ == "separator" || typ == "continuationSeparator" {
					d.Skip()
					continue
				}
				para.Reset()
				fmt.Fprintf(&cell, "[%d] ", number(attr(t, "id")))
			case "tbl":
				inTable++
			case "tr":
				cells = cells[:0]
			case "tc":
				cell.Reset()
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "p":
				text := para.String()
				para.Reset()
				switch {
				case inTable > 0:
					if cell.Len() > 0 {
						cell.WriteString(" ")
					}
					cell.WriteString(text)
				case cell.Len() > 0: // the first paragraph of a footnote
					emit(cell.String()+text, false)
					cell.Reset()
				default:
					s := strings.ToLower(style)
					heading := strings.HasPrefix(s, "heading") || s == "title"
					if list && !heading {
						text = "- " + text
					}
					emit(text, heading)
				}
			case "tc":
				cells = append(cells, strings.Join(strings.Fields(cell.String()), " "))
				cell.Reset()
			case "tr":
				emit(strings.Join(cells, " | "), false)
			case "tbl":
				inTable--
			}
		}
	}
}

// attr is an element's attribute by local name.
func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// xmlElementText is the text of the first element with the local name.
func xmlElementText(b []byte, local string) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if t, ok := tok.(xml.StartElement); ok && t.Name.Local == local {
			var s string
			if d.DecodeElement(&s, &t) == nil {
				return strings.TrimSpace(s)
			}
			return ""
		}
	}
}

// ExtractEPUB returns the title and text of an EPUB book: its XHTML
// documents in reading order, headings as sections.
func ExtractEPUB(b []byte, bud *Budget) (title string, segs []Segment, err error) {
	c, err := openContainer(b, bud)
	if err != nil {
		return "", nil, err
	}
	ct, err := c.read("META-INF/container.xml")
	if err != nil || ct == nil {
		return "", nil, errors.Join(errors.New("no META-INF/container.xml: not an EPUB book"), err)
	}
	var cont struct {
		Rootfiles []struct {
			FullPath string `xml:"full-path,attr"`
		} `xml:"rootfiles>rootfile"`
	}
	if err := xml.Unmarshal(ct, &cont); err != nil || len(cont.Rootfiles) == 0 {
		return "", nil, fmt.Errorf("META-INF/container.xml names no package document: %v", err)
	}
	opfPath := cont.Rootfiles[0].FullPath
	opfData, err := c.read(opfPath)
	if err != nil || opfData == nil {
		return "", nil, errors.Join(fmt.Errorf("package document %s is missing", opfPath), err)
	}
	var opf struct {
		Title    string `xml:"metadata>title"`
		Manifest []struct {
			ID   string `xml:"id,attr"`
			Href string `xml:"href,attr"`
			Type string `xml:"media-type,attr"`
		} `xml:"manifest>item"`
		Spine []struct {
			IDRef string `xml:"idref,attr"`
		} `xml:"spine>itemref"`
	}
	if err := xml.Unmarshal(opfData, &opf); err != nil {
		return "", nil, fmt.Errorf("%s: %w", opfPath, err)
	}
	title = strings.TrimSpace(opf.Title)
	hrefs := map[string]string{}
	for _, it := range opf.Manifest {
		if strings.Contains(it.Type, "html") {
			hrefs[it.ID] = path.Join(path.Dir(opfPath), it.Href)
		}
	}
	section := ""
	for _, ref := range opf.Spine {
		name, ok := hrefs[ref.IDRef]
		if !ok {
			continue
		}
		page, err := c.read(name)
		if err != nil {
			return "", nil, err
		}
		doc, err := html.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", Quote(name), err)
		}
		body := findElement(doc, "body")
		if body == nil {
			continue
		}
		ss := htmlSegments(body, section)
		if len(ss) > 0 {
			section = ss[len(ss)-1].Section
		}
		segs = append(segs, ss...)
	}
	if len(segs) == 0 {
		return title, nil, errors.New("the book has no text")
	}
	return title, segs, nil
}

// findElement is the first element of the name, depth first, without
// recursion.
func findElement(n *html.Node, name string) *html.Node {
	stack := []*html.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode && n.Data == name {
			return n
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return nil
}
