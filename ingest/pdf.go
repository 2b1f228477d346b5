package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/tuneline/tuneline/ingest/internal/pdf"
)

// PDF text is rebuilt from glyph positions (github.com/ledongthuc/pdf
// gives each glyph's font, size, position and width): words are split where
// the gap between glyphs is wider than a fraction of the font size, lines
// where the baseline moves, paragraphs where the gap between lines is larger
// than the page's usual line spacing or a line is indented; columns are
// found from the horizontal gaps that no line crosses; hyphenated line ends
// are joined; lines repeated at the top or bottom of many pages (running
// headers, footers) and bare page numbers are dropped.

type glyph struct {
	s          string
	x, y, w, h float64
	font       string
}

type pdfLine struct {
	text     string
	x0, x1   float64
	y        float64
	size     float64
	page     int
	col      int
	isHeader bool
}

// ErrEncrypted is returned for password-protected PDFs.
var ErrEncrypted = errors.New("the PDF is encrypted (password protected); decrypt it first, e.g. qpdf --decrypt in.pdf out.pdf")

// ExtractPDF reads a PDF's text page by page within the budget (nil: no
// limit). The library can panic on malformed files: that is contained and
// returned as an error.
func ExtractPDF(data []byte, bud *Budget) (title string, segs []Segment, pages int, warnings []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			if berr := bud.Err(); berr != nil {
				err = berr
				return
			}
			err = fmt.Errorf("the PDF is damaged or uses a feature tuneline cannot read: %v; re-saving or repairing it (qpdf in.pdf out.pdf) often helps", r)
		}
	}()
	if !bytes.HasPrefix(bytes.TrimLeft(data, "\x00\t\r\n "), []byte("%PDF-")) {
		return "", nil, 0, nil, fmt.Errorf("not a PDF file (no %%PDF- header)")
	}
	data = fixHeader(data)
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || strings.Contains(err.Error(), "password") {
			return "", nil, 0, nil, ErrEncrypted
		}
		return "", nil, 0, nil, fmt.Errorf("the PDF is damaged and cannot be read: %w; re-saving or repairing it (qpdf in.pdf out.pdf) often helps", err)
	}
	if bud != nil {
		r.Budget = bud.Charge
	}
	pages = r.NumPage()
	// Each page is an object of its own: a file cannot hold more pages
	// than objects (a 629-byte file declaring 2^31 pages ran out of memory).
	if pages < 0 || pages > r.NumObjects() {
		return "", nil, 0, nil, fmt.Errorf("the PDF is damaged: it declares %d pages but holds %d objects", pages, r.NumObjects())
	}
	// Pages are independent: extract them on all cores.
	all := make([][]pdfLine, pages)
	errs := make([]error, pages)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	list := r.Pages(pages) // one walk of the page tree, not one per page
	for i := 1; i <= pages; i++ {
		g.Go(func() error {
			if bud.Err() == nil && i-1 < len(list) {
				all[i-1], errs[i-1] = pageLines(list[i-1], i, bud)
			}
			return nil
		})
	}
	g.Wait()
	if err := bud.Err(); err != nil {
		return "", nil, pages, nil, err
	}
	for i, perr := range errs {
		if perr != nil {
			warnings = append(warnings, fmt.Sprintf("page %d: %v", i+1, perr))
		}
	}
	markRunningHeaders(all)
	title = pdfTitle(r, all)
	for pi, lines := range all {
		segs = append(segs, linesToSegments(lines, pi+1)...)
	}
	if len(segs) == 0 {
		warnings = append(warnings, "no text found (a scanned PDF needs OCR first)")
	}
	return title, segs, pages, warnings, nil
}

// pageLines reads a page's lines. The budget is charged for the page's
// glyphs while they are read (by the library) and given them back for the
// lines, which are all that stays.
func pageLines(p pdf.Page, n int, bud *Budget) (lines []pdfLine, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("the page is damaged and was left out: %v", rec)
		}
	}()
	if p.V.IsNull() {
		return nil, nil
	}
	text := p.Content().Text
	gs := make([]glyph, 0, len(text))
	for _, t := range text {
		if t.S == "" || t.S == "\n" {
			continue
		}
		gs = append(gs, glyph{s: normalizeGlyph(t.S, t.Font), x: t.X, y: t.Y, w: t.W, h: t.FontSize, font: t.Font})
	}
	lines = buildLines(gs, n)
	kept := int64(0)
	for _, l := range lines {
		kept += int64(len(l.text)) + 96
	}
	bud.Charge(kept - int64(len(text))*pdf.TextCost)
	return lines, nil
}

// buildLines groups glyphs (in content-stream order) into lines.
func buildLines(gs []glyph, page int) []pdfLine {
	var lines []pdfLine
	var b strings.Builder
	var cur *pdfLine
	var lastEnd, lastY, lastH, lastBase float64
	pendingMark := ""
	for _, g := range gs {
		h := math.Max(g.h, 1)
		newLine := cur == nil || math.Abs(g.y-lastY) > 0.5*math.Max(h, lastH) || g.x < lastEnd-2*h
		// sub/superscripts move the baseline a little: keep them on the line
		if cur != nil && newLine && math.Abs(g.y-lastY) <= 0.6*math.Max(h, lastH) && g.x >= lastEnd-0.5 && g.x-lastEnd < 2*h {
			newLine = false
		}
		if newLine {
			if cur != nil {
				cur.text = b.String()
				cur.x1 = lastEnd
				lines = append(lines, *cur)
			}
			b.Reset()
			cur = &pdfLine{x0: g.x, y: g.y, size: h, page: page}
		} else {
			gap := g.x - lastEnd
			raised := g.h < 0.8*cur.size && g.y > lastBase+0.2*cur.size
			if gap > 0.18*h && !raised && !strings.HasSuffix(b.String(), " ") && !strings.HasPrefix(g.s, " ") {
				b.WriteByte(' ')
			}
		}
		// Raised and lowered glyphs (exponents, indices) stay plain text
		// next to their base: "f−1(U)", "U1".
		if newLine || g.h >= 0.8*cur.size {
			lastBase = g.y
		}
		// TeX draws an accent before the letter under it: a combining
		// mark goes after the next glyph.
		if r, _ := utf8.DecodeRuneInString(g.s); len(g.s) == utf8.RuneLen(r) && unicode.Is(unicode.Mn, r) {
			pendingMark += g.s
			lastEnd, lastY, lastH = g.x, g.y, h
			continue
		}
		b.WriteString(g.s)
		if pendingMark != "" {
			b.WriteString(pendingMark)
			pendingMark = ""
		}
		if g.h > cur.size && !newLine {
			cur.size = math.Max(cur.size, h)
		}
		lastEnd, lastY, lastH = g.x+g.w, g.y, h
	}
	if cur != nil {
		cur.text = b.String()
		cur.x1 = lastEnd
		lines = append(lines, *cur)
	}
	out := lines[:0]
	for _, l := range lines {
		l.text = strings.TrimSpace(strings.Join(strings.FieldsFunc(l.text, func(r rune) bool { return r == ' ' || r == '\t' }), " "))
		if l.text != "" {
			out = append(out, l)
		}
	}
	return out
}

// markRunningHeaders flags the first and last lines of pages that repeat
// (digits aside) on many pages, and bare page numbers.
func markRunningHeaders(pages [][]pdfLine) {
	if len(pages) < 3 {
		return
	}
	key := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return -1
			}
			return r
		}, s)
	}
	count := map[string]int{}
	for _, ls := range pages {
		seen := map[string]bool{}
		for _, i := range edgeIdx(len(ls)) {
			k := key(ls[i].text)
			if !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	for _, ls := range pages {
		for _, i := range edgeIdx(len(ls)) {
			t := ls[i].text
			if isPageNumber(t) || (count[key(t)]*4 >= len(pages) && count[key(t)] >= 3) {
				ls[i].isHeader = true
			}
		}
	}
}

func edgeIdx(n int) []int {
	switch {
	case n == 0:
		return nil
	case n == 1:
		return []int{0}
	}
	return []int{0, n - 1}
}

func isPageNumber(t string) bool {
	t = strings.Trim(t, " -–—|[]()")
	if t == "" || len(t) > 12 {
		return false
	}
	l := strings.ToLower(t)
	l = strings.TrimPrefix(strings.TrimPrefix(l, "page "), "seite ")
	for _, r := range l {
		if !unicode.IsDigit(r) && !strings.ContainsRune("ivxlcdm /of", r) {
			return false
		}
	}
	return true
}

func pdfTitle(r *pdf.Reader, pages [][]pdfLine) string {
	if info := r.Trailer().Key("Info"); !info.IsNull() {
		if t := strings.TrimSpace(info.Key("Title").Text()); t != "" {
			return t
		}
	}
	// the largest text on the first page with text
	for _, ls := range pages {
		best := -1
		for i, l := range ls {
			if !l.isHeader && (best < 0 || l.size > ls[best].size) {
				best = i
			}
		}
		if best >= 0 {
			return firstWords(ls[best].text, 16)
		}
	}
	return ""
}

// linesToSegments orders a page's lines by column and groups them into
// paragraphs, joining hyphenated line ends.
func linesToSegments(lines []pdfLine, page int) []Segment {
	var body []pdfLine
	for _, l := range lines {
		if !l.isHeader {
			body = append(body, l)
		}
	}
	if len(body) == 0 {
		return nil
	}
	body = orderColumns(body)
	// usual line spacing on this page
	var gaps []float64
	for i := 1; i < len(body); i++ {
		if body[i].col == body[i-1].col {
			if d := body[i-1].y - body[i].y; d > 0 {
				gaps = append(gaps, d/body[i].size)
			}
		}
	}
	sort.Float64s(gaps)
	usual := 1.2
	if len(gaps) > 0 {
		usual = gaps[len(gaps)/2]
	}
	var segs []Segment
	var para strings.Builder
	flush := func() {
		if t := strings.TrimSpace(para.String()); t != "" {
			segs = append(segs, Segment{Text: t, Page: page, Break: true})
		}
		para.Reset()
	}
	// margins of each column: the usual left edge and right edge (lines
	// spanning both columns and overhangs aside)
	left, right := map[int]float64{}, map[int]float64{}
	x0s, x1s := map[int][]float64{}, map[int][]float64{}
	for _, l := range body {
		x0s[l.col] = append(x0s[l.col], l.x0)
		x1s[l.col] = append(x1s[l.col], l.x1)
	}
	for c := range x0s {
		sort.Float64s(x0s[c])
		sort.Float64s(x1s[c])
		left[c] = x0s[c][len(x0s[c])/10]
		right[c] = x1s[c][len(x1s[c])*7/10]
	}
	for i, l := range body {
		if i > 0 {
			prev := body[i-1]
			d := (prev.y - l.y) / l.size
			newPara := false
			if l.col == prev.col && (d > usual*1.45 || d < 0) {
				newPara = true
			}
			if math.Abs(l.size-prev.size) > 1.5 {
				newPara = true
			}
			// A short line ending a sentence, followed by an indented
			// line or one starting a sentence, ends a paragraph (also
			// across a column break).
			short := prev.x1 < right[prev.col]-2.5*prev.size
			indent := l.x0 > left[l.col]+0.8*l.size && l.x0 < left[l.col]+4*l.size
			ends := strings.ContainsAny(string(lastRune(prev.text)), ".!?:")
			if short && ends && (indent || !startsLower(l.text)) {
				newPara = true
			}
			if newPara {
				flush()
			} else {
				t := para.String()
				if strings.HasSuffix(t, "-") && len(t) > 1 && unicode.IsLower(lastRune(t[:len(t)-1])) && startsLower(l.text) {
					// Join the word on the first line; the line break
					// moves after it.
					first, rest, _ := strings.Cut(l.text, " ")
					para.Reset()
					para.WriteString(t[:len(t)-1] + first)
					if rest != "" {
						para.WriteString("\n" + rest)
					}
					continue
				}
				para.WriteString("\n")
			}
		}
		para.WriteString(l.text)
	}
	flush()
	return segs
}

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1]
}

func startsLower(s string) bool {
	for _, r := range s {
		return unicode.IsLower(r)
	}
	return false
}

// orderColumns assigns columns from vertical gutters (x ranges no wide line
// crosses) and orders lines column by column, top to bottom; lines spanning
// the columns (titles, full-width figures) stay in their vertical place.
func orderColumns(ls []pdfLine) []pdfLine {
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, l := range ls {
		minX, maxX = math.Min(minX, l.x0), math.Max(maxX, l.x1)
	}
	width := maxX - minX
	if width <= 0 || len(ls) < 6 {
		return ls
	}
	// Look for a gutter near the middle: a band no line crosses, with lines
	// on both sides.
	const bins = 200
	var cover [bins]int
	for _, l := range ls {
		a := int((l.x0 - minX) / width * (bins - 1))
		b := int((l.x1 - minX) / width * (bins - 1))
		for i := max(a, 0); i <= min(b, bins-1); i++ {
			cover[i]++
		}
	}
	best, bestLen := -1, 0
	for i := bins / 4; i < bins*3/4; i++ {
		if cover[i] != 0 {
			continue
		}
		j := i
		for j < bins*3/4 && cover[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = (i+j)/2, j-i
		}
		i = j
	}
	if best < 0 {
		return ls
	}
	split := minX + float64(best)/float64(bins-1)*width
	left, right := 0, 0
	for _, l := range ls {
		if l.x1 <= split {
			left++
		} else if l.x0 >= split {
			right++
		}
	}
	if left < 3 || right < 3 {
		return ls
	}
	out := make([]pdfLine, 0, len(ls))
	for i := range ls {
		if ls[i].x0 >= split {
			ls[i].col = 1
		}
	}
	// stable: column 0 in stream order, then column 1
	for _, l := range ls {
		if l.col == 0 {
			out = append(out, l)
		}
	}
	for _, l := range ls {
		if l.col == 1 {
			out = append(out, l)
		}
	}
	return out
}

var ligatures = strings.NewReplacer("\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\ufb05", "st", "\ufb06", "st")

// normalizeGlyph expands ligatures (TeX math fonts are decoded by the
// patched reader, see internal/pdf/texfonts.go).
func normalizeGlyph(s, font string) string {
	if strings.ContainsAny(s, "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06") {
		return ligatures.Replace(s)
	}
	return s
}

// fixHeader moves trailing blanks of the "%PDF-1.x" line after its line
// break (some writers emit "%PDF-1.7 \n", which the library refuses);
// every byte offset in the file stays the same.
func fixHeader(data []byte) []byte {
	i := bytes.Index(data, []byte("%PDF-"))
	if i < 0 {
		return data
	}
	j := i + 8
	k := j
	for k < len(data) && (data[k] == ' ' || data[k] == '\t') {
		k++
	}
	if k == j || k >= len(data) || (data[k] != '\n' && data[k] != '\r') {
		return data
	}
	out := bytes.Clone(data)
	out[j] = data[k]
	for x := j + 1; x <= k; x++ {
		out[x] = ' '
	}
	return out
}
