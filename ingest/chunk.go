package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tuneline/tuneline/tokens"
)

// ChunkOptions size chunks in cl100k tokens.
type ChunkOptions struct {
	Target  int // tokens a chunk aims for (0: DefaultConfig's chunk_tokens)
	Overlap int // tokens of the previous chunk repeated at the start of the next
}

// unit is a sentence with its provenance.
type unit struct {
	text       string
	tokens     int
	section    string
	page       int
	start, end float64
	speaker    string
	brk        bool // starts a paragraph
}

var sentenceEnd = regexp.MustCompile(`[.!?…]["'”’)\]]*\s+`)

var abbreviations = map[string]bool{"mr.": true, "mrs.": true, "ms.": true, "dr.": true, "prof.": true, "e.g.": true, "i.e.": true,
	"etc.": true, "vs.": true, "fig.": true, "eq.": true, "no.": true, "st.": true, "jr.": true, "sr.": true, "cf.": true, "al.": true, "p.": true, "pp.": true}

// Sentences splits text at sentence ends, not after common abbreviations,
// initials or when the next word starts in lower case.
func Sentences(text string) []string {
	var out []string
	start := 0
	for _, m := range sentenceEnd.FindAllStringIndex(text, -1) {
		end := m[1]
		if end >= len(text) {
			break
		}
		// the word ending in the punctuation
		w := text[start : m[0]+1]
		if i := strings.LastIndexAny(w, " \n\t"); i >= 0 {
			w = w[i+1:]
		}
		lw := strings.ToLower(w)
		if abbreviations[lw] || (len(w) == 2 && w[0] >= 'A' && w[0] <= 'Z') {
			continue
		}
		next := text[end]
		if next >= 'a' && next <= 'z' {
			continue
		}
		out = append(out, strings.TrimSpace(text[start:end]))
		start = end
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// ChunkDocument cuts a document into chunks of about opt.Target tokens,
// ending at sentence boundaries when it can, never across sections, with
// opt.Overlap tokens repeated from one chunk to the next.
func ChunkDocument(d *Document, opt ChunkOptions, tc *tokens.Counter) []Chunk {
	if opt.Target <= 0 {
		opt.Target = DefaultConfig().ChunkTokens
	}
	opt.Overlap = min(max(opt.Overlap, 0), opt.Target/2)
	var units []unit
	for _, s := range d.Segments {
		if s.Heading {
			continue
		}
		first := true
		for _, sent := range Sentences(s.Text) {
			for _, piece := range splitLong(sent, opt.Target, tc) {
				units = append(units, unit{text: piece, tokens: tc.Count(piece), section: s.Section, page: s.Page,
					start: s.Start, end: s.End, speaker: s.Speaker, brk: s.Break && first})
				first = false
			}
		}
	}
	var chunks []Chunk
	var cur []unit
	curTokens := 0
	emit := func() {
		if len(cur) == 0 {
			return
		}
		chunks = append(chunks, makeChunk(d, cur, len(chunks), tc))
		// keep the tail for the overlap
		keep := 0
		n := 0
		for i := len(cur) - 1; i > 0; i-- {
			if n+cur[i].tokens > opt.Overlap {
				break
			}
			n += cur[i].tokens
			keep++
		}
		cur = append([]unit(nil), cur[len(cur)-keep:]...)
		curTokens = n
	}
	for _, u := range units {
		sectionChange := len(cur) > 0 && u.section != cur[len(cur)-1].section
		if sectionChange {
			emit()
			cur, curTokens = nil, 0
		}
		if curTokens+u.tokens > opt.Target && curTokens > 0 {
			overlapOnly := curTokens
			emit()
			if overlapOnly == curTokens { // nothing new since the overlap
				cur, curTokens = nil, 0
			}
		}
		cur = append(cur, u)
		curTokens += u.tokens
	}
	if len(cur) > 0 && (len(chunks) == 0 || !sameTail(chunks[len(chunks)-1], cur)) {
		chunks = append(chunks, makeChunk(d, cur, len(chunks), tc))
	}
	return chunks
}

func sameTail(c Chunk, cur []unit) bool {
	return strings.HasSuffix(c.Text, cur[len(cur)-1].text) && len(cur) > 0 && strings.Contains(c.Text, cur[0].text)
}

// longBytes is the length past which a sentence or word is cut without
// being counted whole: no text reads 64 KB within a chunk's target (a
// token is at most a few hundred bytes), and byte-pair encoding one piece
// of 20 MB took 20 s and 1.3 GB.
const longBytes = 64 << 10

// splitLong cuts a sentence longer than the target at word boundaries.
func splitLong(s string, target int, tc *tokens.Counter) []string {
	if len(s) <= longBytes && tc.Count(s) <= target {
		return []string{s}
	}
	var out []string
	words := strings.Fields(s)
	var b strings.Builder
	n := 0
	for _, w := range words {
		wn := target + 1
		if len(w) <= longBytes {
			wn = tc.Count(" " + w)
		}
		if wn > target {
			// One "word" longer than a chunk (a run of characters without
			// spaces: a URL list, base64, a 10 MB cue): cut it by
			// characters so that no chunk grows past the target.
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
				n = 0
			}
			out = append(out, splitWord(w, target, tc)...)
			continue
		}
		if n+wn > target && b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
			n = 0
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		n += wn
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// splitWord cuts a word into pieces of at most target tokens each (at
// most target runes, halved until they count within it).
func splitWord(w string, target int, tc *tokens.Counter) []string {
	var out []string
	for i := 0; i < len(w); {
		end, l := runesEnd(w, i, max(target, 1))
		for l > 1 && tc.Count(w[i:end]) > target {
			end, l = runesEnd(w, i, l/2)
		}
		out = append(out, w[i:end])
		i = end
	}
	return out
}

// runesEnd is the byte offset n runes after i in s, and the runes it
// passed (fewer than n at the end of s).
func runesEnd(s string, i, n int) (end, runes int) {
	for end = i; runes < n && end < len(s); runes++ {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return end, runes
}

func makeChunk(d *Document, us []unit, seq int, tc *tokens.Counter) Chunk {
	var b strings.Builder
	c := Chunk{DocID: d.DocID, Seq: seq, Source: d.Source, SourceRaw: rawName(d.Source), Kind: d.Kind, Title: clipLabel(d.Title), Section: clipLabel(us[0].section)}
	speakers := map[string]bool{}
	lastSpeaker := ""
	for i, u := range us {
		if i > 0 {
			if u.brk || (u.speaker != "" && u.speaker != lastSpeaker) {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		if u.speaker != "" && u.speaker != lastSpeaker {
			b.WriteString(u.speaker + ": ")
		}
		lastSpeaker = u.speaker
		b.WriteString(u.text)
		if u.page > 0 {
			if c.PageStart == 0 || u.page < c.PageStart {
				c.PageStart = u.page
			}
			c.PageEnd = max(c.PageEnd, u.page)
		}
		if u.end > 0 {
			if c.TimeEnd == 0 || u.start < c.TimeStart {
				c.TimeStart = u.start
			}
			c.TimeEnd = max(c.TimeEnd, u.end)
		}
		if u.speaker != "" {
			speakers[u.speaker] = true
		}
	}
	if len(speakers) == 1 {
		c.Speaker = clipLabel(lastSpeaker)
	} else if len(speakers) > 1 {
		var names []string
		seen := map[string]bool{}
		for _, u := range us {
			if u.speaker != "" && !seen[u.speaker] {
				seen[u.speaker] = true
				names = append(names, u.speaker)
			}
		}
		c.Speaker = clipLabel(strings.Join(names, ", "))
	}
	c.Text = b.String()
	c.Tokens = tc.Count(c.Text)
	h := sha256.Sum256([]byte(d.DocID + "\x00" + c.Text))
	c.ID = "ch-" + hex.EncodeToString(h[:8])
	return c
}

// maxLabel is the most bytes of a title, section or speaker a chunk
// carries. They are repeated in every chunk of their document: a text of
// one 20 MB word was its own title, and its chunks made 54 GB of output.
const maxLabel = 512

// clipLabel cuts a label longer than maxLabel at a word boundary (at a
// rune boundary when it has none in its second half) and marks the cut.
func clipLabel(s string) string {
	if len(s) <= maxLabel {
		return s
	}
	cut := maxLabel - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexAny(s[:cut], " \t\n"); i > maxLabel/2 {
		cut = i
	}
	return strings.TrimRight(s[:cut], " \t\n") + "…"
}

// DocID is the content hash that identifies a document.
func DocID(content []byte) string {
	h := sha256.Sum256(content)
	return "doc-" + hex.EncodeToString(h[:8])
}
