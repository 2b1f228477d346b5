// Package transcript parses subtitle and transcript files — WebVTT (by the
// specification's parsing algorithm), SRT, SBV and YouTube auto-captions —
// into timed cues.
package transcript

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cue is one timed piece of text with the WebVTT cue settings.
type Cue struct {
	ID            string
	Start, End    float64 // seconds
	Text          string
	Vertical      string // "", "rl", "lr"
	SnapToLines   bool
	Line          *float64 // nil: auto
	LineAlign     string
	Position      *float64 // nil: auto
	PositionAlign string
	Size          float64
	Align         string
	Region        *Region

	at int // offset of the timing line in the preprocessed text
}

// Region is a WebVTT region.
type Region struct {
	ID                               string
	Width                            float64
	Lines                            float64 // a JavaScript number: lines:99999999999999999999 is kept
	RegionAnchorX, RegionAnchorY     float64
	ViewportAnchorX, ViewportAnchorY float64
	Scroll                           string // "" or "up"
}

func newCue() *Cue {
	return &Cue{SnapToLines: true, LineAlign: "start", PositionAlign: "auto", Size: 100, Align: "center"}
}

func newRegion() *Region {
	return &Region{Width: 100, Lines: 3, RegionAnchorY: 100, ViewportAnchorY: 100}
}

// ErrNotWebVTT is returned for input without the WEBVTT signature.
type ErrNotWebVTT struct{ Reason string }

func (e *ErrNotWebVTT) Error() string { return "not a WebVTT file: " + e.Reason }

// preprocess applies the spec's decoding steps: invalid UTF-8 and NUL become
// U+FFFD, CRLF and CR become LF, a leading BOM is dropped.
func preprocess(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if !utf8.ValidString(string(b)) {
		// each invalid byte is its own replacement, as a UTF-8 decoder does
		var sb strings.Builder
		for len(b) > 0 {
			r, n := utf8.DecodeRune(b)
			sb.WriteRune(r)
			b = b[n:]
		}
		s = sb.String()
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

type vttParser struct {
	s       string
	pos     int
	regions []*Region
	seenCue bool
}

func (p *vttParser) eof() bool { return p.pos >= len(p.s) }

func (p *vttParser) line() string {
	i := strings.IndexByte(p.s[p.pos:], '\n')
	if i < 0 {
		l := p.s[p.pos:]
		p.pos = len(p.s)
		return l
	}
	l := p.s[p.pos : p.pos+i]
	p.pos += i
	return l
}

// ParseWebVTT parses a WebVTT file following the WebVTT parser algorithm
// of the W3C specification (section "WebVTT file parsing").
func ParseWebVTT(b []byte) ([]*Cue, error) {
	cues, _, err := parseWebVTT(b)
	return cues, err
}

func parseWebVTT(b []byte) ([]*Cue, []*Region, error) { return parseWebVTTText(preprocess(b)) }

// parseWebVTTText parses preprocessed text.
func parseWebVTTText(s string) ([]*Cue, []*Region, error) {
	if len(s) < 6 || s[:6] != "WEBVTT" {
		return nil, nil, &ErrNotWebVTT{"it does not start with WEBVTT"}
	}
	if len(s) > 6 && s[6] != ' ' && s[6] != '\t' && s[6] != '\n' {
		return nil, nil, &ErrNotWebVTT{"WEBVTT is followed by something other than a space, tab or line break"}
	}
	p := &vttParser{s: s}
	p.line() // the signature line
	if p.eof() {
		return nil, nil, nil
	}
	p.pos++ // LF
	if !p.eof() && p.s[p.pos] != '\n' {
		p.block(true)
	} else if !p.eof() {
		p.pos++
	}
	p.skipLF()
	var cues []*Cue
	for !p.eof() {
		c, r := p.block(false)
		if c != nil {
			cues = append(cues, c)
			p.seenCue = true
		} else if r != nil {
			p.regions = append(p.regions, r)
		}
		p.skipLF()
	}
	return cues, p.regions, nil
}

func (p *vttParser) skipLF() {
	for !p.eof() && p.s[p.pos] == '\n' {
		p.pos++
	}
}

func (p *vttParser) block(inHeader bool) (*Cue, *Region) {
	lineCount := 0
	prevPos := p.pos
	var buf strings.Builder
	seenArrow := false
	var cue *Cue
	var region *Region
	stylesheet := false
	for {
		at := p.pos
		line := p.line()
		lineCount++
		seenEOF := p.eof()
		if !seenEOF {
			p.pos++
		}
		if strings.Contains(line, "-->") {
			if !inHeader && (lineCount == 1 || (lineCount == 2 && !seenArrow)) {
				seenArrow = true
				prevPos = p.pos
				cue = newCue()
				cue.ID = buf.String()
				cue.at = at
				if !p.timingsAndSettings(line, cue) {
					cue = nil
				} else {
					buf.Reset()
				}
			} else {
				p.pos = prevPos
				break
			}
		} else if line == "" {
			break
		} else {
			if !inHeader && lineCount == 2 {
				if !p.seenCue && isKeyword(buf.String(), "STYLE") {
					stylesheet = true
					buf.Reset()
				} else if !p.seenCue && isKeyword(buf.String(), "REGION") {
					region = newRegion()
					buf.Reset()
				}
			}
			if buf.Len() > 0 {
				buf.WriteByte('\n')
			}
			buf.WriteString(line)
			prevPos = p.pos
		}
		if seenEOF {
			break
		}
	}
	switch {
	case cue != nil:
		cue.Text = buf.String()
		return cue, nil
	case stylesheet:
		return nil, nil
	case region != nil:
		regionSettings(buf.String(), region)
		return nil, region
	}
	return nil, nil
}

func isKeyword(s, kw string) bool {
	return strings.HasPrefix(s, kw) && strings.Trim(s[len(kw):], " \t") == ""
}

func isASCIIWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func skipWS(s string, i int) int {
	for i < len(s) && isASCIIWS(s[i]) {
		i++
	}
	return i
}

func (p *vttParser) timingsAndSettings(line string, c *Cue) bool {
	i := skipWS(line, 0)
	start, i, ok := timestamp(line, i)
	if !ok {
		return false
	}
	i = skipWS(line, i)
	if !strings.HasPrefix(line[i:], "-->") {
		return false
	}
	i = skipWS(line, i+3)
	end, i, ok := timestamp(line, i)
	if !ok {
		return false
	}
	c.Start, c.End = start, end
	p.cueSettings(line[i:], c)
	return true
}

func digits(s string, i int) (string, int) {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return s[i:j], j
}

// timestamp collects a WebVTT timestamp at s[i:].
func timestamp(s string, i int) (float64, int, bool) {
	hoursUnit := false
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return 0, i, false
	}
	d1, i := digits(s, i)
	v1, _ := strconv.ParseInt(d1, 10, 64)
	if len(d1) != 2 || v1 > 59 {
		hoursUnit = true
	}
	if i >= len(s) || s[i] != ':' {
		return 0, i, false
	}
	d2, i := digits(s, i+1)
	if len(d2) != 2 {
		return 0, i, false
	}
	v2, _ := strconv.ParseInt(d2, 10, 64)
	var v3 int64
	if hoursUnit || (i < len(s) && s[i] == ':') {
		if i >= len(s) || s[i] != ':' {
			return 0, i, false
		}
		var d3 string
		d3, i = digits(s, i+1)
		if len(d3) != 2 {
			return 0, i, false
		}
		v3, _ = strconv.ParseInt(d3, 10, 64)
	} else {
		v1, v2, v3 = 0, v1, v2
	}
	if i >= len(s) || s[i] != '.' {
		return 0, i, false
	}
	d4, i := digits(s, i+1)
	if len(d4) != 3 {
		return 0, i, false
	}
	v4, _ := strconv.ParseInt(d4, 10, 64)
	if v2 > 59 || v3 > 59 {
		return 0, i, false
	}
	return float64(v1)*3600 + float64(v2)*60 + float64(v3) + float64(v4)/1000, i, true
}

func splitSpaces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isASCIIWS(byte(r)) })
}

// percentage parses a WebVTT percentage ("50%", "12.5%") in [0, 100].
func percentage(s string) (float64, bool) {
	if !strings.HasSuffix(s, "%") {
		return 0, false
	}
	num := s[:len(s)-1]
	intPart, i := digits(num, 0)
	if intPart == "" {
		return 0, false
	}
	if i < len(num) {
		if num[i] != '.' {
			return 0, false
		}
		frac, j := digits(num, i+1)
		if frac == "" || j != len(num) {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, false
	}
	return v, true
}

func (p *vttParser) cueSettings(s string, c *Cue) {
	for _, setting := range splitSpaces(s) {
		k := strings.IndexByte(setting, ':')
		if k <= 0 || k == len(setting)-1 {
			continue
		}
		name, value := setting[:k], setting[k+1:]
		switch name {
		case "region":
			c.Region = nil
			for i := len(p.regions) - 1; i >= 0; i-- {
				if p.regions[i].ID == value {
					c.Region = p.regions[i]
					break
				}
			}
		case "vertical":
			if value == "rl" || value == "lr" {
				c.Vertical = value
			}
		case "line":
			linepos, linealign, hasAlign := strings.Cut(value, ",")
			if !strings.ContainsAny(linepos, "0123456789") {
				continue
			}
			var number float64
			snap := true
			if strings.HasSuffix(linepos, "%") {
				v, ok := percentage(linepos)
				if !ok {
					continue
				}
				number, snap = v, false
			} else {
				if strings.Trim(linepos, "0123456789-.") != "" || strings.LastIndexByte(linepos, '-') > 0 || strings.Count(linepos, ".") > 1 {
					continue
				}
				if d := strings.IndexByte(linepos, '.'); d >= 0 && (d == 0 || d == len(linepos)-1 || !isDigit(linepos[d-1]) || !isDigit(linepos[d+1])) {
					continue
				}
				v, err := strconv.ParseFloat(linepos, 64)
				if err != nil {
					continue
				}
				number = v
			}
			align := "start"
			if hasAlign {
				switch linealign {
				case "start", "center", "end":
					align = linealign
				default:
					continue
				}
			}
			c.Line, c.SnapToLines, c.LineAlign = &number, snap, align
		case "position":
			colpos, colalign, hasAlign := strings.Cut(value, ",")
			v, ok := percentage(colpos)
			if !ok {
				continue
			}
			align := "auto"
			if hasAlign {
				switch colalign {
				case "line-left", "center", "line-right":
					align = colalign
				default:
					continue
				}
			}
			c.Position, c.PositionAlign = &v, align
		case "size":
			if v, ok := percentage(value); ok {
				c.Size = v
			}
		case "align":
			switch value {
			case "start", "center", "end", "left", "right":
				c.Align = value
			}
		}
	}
	if c.Line != nil || c.Size != 100 || c.Vertical != "" {
		c.Region = nil
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func regionSettings(s string, r *Region) {
	for _, setting := range splitSpaces(s) {
		k := strings.IndexByte(setting, ':')
		if k <= 0 || k == len(setting)-1 {
			continue
		}
		name, value := setting[:k], setting[k+1:]
		switch name {
		case "id":
			if !strings.Contains(value, "-->") {
				r.ID = value
			}
		case "width":
			if v, ok := percentage(value); ok {
				r.Width = v
			}
		case "lines":
			if strings.Trim(value, "0123456789") != "" {
				continue
			}
			if n, err := strconv.ParseFloat(value, 64); err == nil {
				r.Lines = n
			}
		case "regionanchor", "viewportanchor":
			xs, ys, ok := strings.Cut(value, ",")
			if !ok {
				continue
			}
			x, okx := percentage(xs)
			y, oky := percentage(ys)
			if !okx || !oky {
				continue
			}
			if name == "regionanchor" {
				r.RegionAnchorX, r.RegionAnchorY = x, y
			} else {
				r.ViewportAnchorX, r.ViewportAnchorY = x, y
			}
		case "scroll":
			if value == "up" {
				r.Scroll = "up"
			}
		}
	}
}
