package transcript

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Kinds of transcript files.
const (
	KindWebVTT = "vtt"
	KindSRT    = "srt"
	KindSBV    = "sbv"
	KindText   = "transcript" // "Speaker: text" turns
)

// Line is one cleaned line of a transcript with its timing and speaker.
type Line struct {
	Start, End float64 // seconds; both 0 for untimed text
	Speaker    string
	Text       string
}

var (
	srtTiming = regexp.MustCompile(`^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})`)
	vttTiming = regexp.MustCompile(`^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})`)
	sbvTiming = regexp.MustCompile(`^\s*(\d+):(\d{1,2}):(\d{1,2})\.(\d{1,3}),(\d+):(\d{1,2}):(\d{1,2})\.(\d{1,3})\s*$`)
)

func secs(h, m, s, ms string) float64 {
	hv, _ := strconv.Atoi(h)
	mv, _ := strconv.Atoi(m)
	sv, _ := strconv.Atoi(s)
	msv, _ := strconv.Atoi((ms + "00")[:3])
	return float64(hv)*3600 + float64(mv)*60 + float64(sv) + float64(msv)/1000
}

// Detect tells the transcript kind of the content, or "" when it is none.
func Detect(b []byte) string {
	s := preprocess(b[:min(len(b), 4096)])
	if strings.HasPrefix(s, "WEBVTT") {
		return KindWebVTT
	}
	for _, l := range strings.Split(s, "\n") {
		switch {
		case srtTiming.MatchString(l):
			return KindSRT
		case vttTiming.MatchString(l):
			return KindWebVTT
		case sbvTiming.MatchString(l):
			return KindSBV
		}
	}
	return ""
}

// Problem is a part of a file that could not be read, with its line.
type Problem struct {
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Parse reads a transcript of the given kind into cleaned lines: markup
// removed, speakers found, YouTube's rolling duplicate lines collapsed.
// Blocks that cannot be read are reported and skipped.
func Parse(b []byte, kind string) ([]Line, []Problem) {
	switch kind {
	case KindWebVTT:
		s := preprocess(b)
		if cues, _, err := parseWebVTTText(s); err == nil {
			probs := swapBackward(s, cues)
			return fromCues(cues), probs
		}
		// A file with timings but no signature: read it leniently.
		lines, probs := parseBlocks(s, vttTiming)
		return lines, append([]Problem{{1, "no WEBVTT signature; read leniently"}}, probs...)
	case KindSRT:
		return parseBlocks(preprocess(b), srtTiming)
	case KindSBV:
		return parseBlocks(preprocess(b), sbvTiming)
	}
	return parseSpeakerText(preprocess(b)), nil
}

// parseBlocks reads SRT/SBV-style files: blocks separated by blank lines,
// an optional counter, a timing line and text.
func parseBlocks(s string, timing *regexp.Regexp) ([]Line, []Problem) {
	var out []Line
	var probs []Problem
	lines := strings.Split(s, "\n")
	var cur *Line
	var text []string
	flush := func() {
		if cur != nil {
			cur.Text = strings.Join(text, "\n")
			out = append(out, *cur)
		}
		cur, text = nil, nil
	}
	for i, l := range lines {
		m := timing.FindStringSubmatch(l)
		switch {
		case m != nil:
			flush()
			var start, end float64
			if len(m) == 9 {
				if !clock(m[2], m[3]) || !clock(m[6], m[7]) {
					flush()
					probs = append(probs, Problem{i + 1, fmt.Sprintf("bad timing line %q (minutes and seconds go up to 59); cue skipped", strings.TrimSpace(l))})
					cur, text = nil, nil
					continue
				}
				start, end = secs(m[1], m[2], m[3], m[4]), secs(m[5], m[6], m[7], m[8])
			}
			if end < start {
				probs = append(probs, backward(i+1, start, end))
				start, end = end, start
			}
			cur = &Line{Start: start, End: end}
		case strings.Contains(l, "-->") || (timing == sbvTiming && looksLikeSBVTiming(l)):
			flush()
			probs = append(probs, Problem{i + 1, fmt.Sprintf("bad timing line %q; cue skipped", l)})
			cur = nil
			// skip the cue's text
			text = nil
		case strings.TrimSpace(l) == "":
			flush()
		case cur == nil:
			// a counter line, or text outside any cue
			if _, err := strconv.Atoi(strings.TrimSpace(l)); err != nil && i+1 < len(lines) && !timing.MatchString(lines[i+1]) {
				probs = append(probs, Problem{i + 1, "text outside a cue skipped"})
			}
		default:
			text = append(text, l)
		}
	}
	flush()
	var cues []*Cue
	for _, l := range out {
		c := newCue()
		c.Start, c.End, c.Text = l.Start, l.End, l.Text
		cues = append(cues, c)
	}
	return fromCues(cues), probs
}

// swapBackward swaps the times of cues that end before they start, as
// parseBlocks does for SRT and SBV, and reports each with its timing line.
// WebVTT's parsing algorithm keeps such a cue as written; a Line's End is
// never before its Start. Cues come in the order of the text, so the
// lines are counted once.
func swapBackward(s string, cues []*Cue) []Problem {
	var probs []Problem
	line, pos := 1, 0
	for _, c := range cues {
		if c.End >= c.Start {
			continue
		}
		if c.at < pos { // not expected: cues come in order
			line, pos = 1, 0
		}
		line += strings.Count(s[pos:c.at], "\n")
		pos = c.at
		probs = append(probs, backward(line, c.Start, c.End))
		c.Start, c.End = c.End, c.Start
	}
	return probs
}

// backward is the problem of a cue whose times were swapped.
func backward(line int, start, end float64) Problem {
	return Problem{line, fmt.Sprintf("cue ends (%.3f s) before it starts (%.3f s); times swapped", end, start)}
}

// clock tells whether minutes and seconds are below 60.
func clock(min, sec string) bool {
	m, err1 := strconv.Atoi(min)
	s, err2 := strconv.Atoi(sec)
	return err1 == nil && err2 == nil && m < 60 && s < 60
}

var sbvLike = regexp.MustCompile(`^\s*[\d:.a-zA-Z]+,[\d:.a-zA-Z]+\s*$`)

func looksLikeSBVTiming(l string) bool { return sbvLike.MatchString(l) && strings.Count(l, ":") >= 2 }

var (
	tagRe   = regexp.MustCompile(`<[^>]*>`)
	voiceRe = regexp.MustCompile(`^<v(?:\.[^ >]*)?\s+([^>]+)>`)
	// A speaker label is a name or a role: up to four words, each
	// capitalised ("Dr. Smith", "NARRATOR", "Mary Ann"), or a bracketed
	// label. "The first rule is simple: ..." is a sentence, not a label.
	speakerRe = regexp.MustCompile(`^\s*(?:>>\s*)?((?:\p{Lu}[\p{L}.'-]*)(?: \p{Lu}[\p{L}.'-]*){0,3}|\[[^\]]{1,40}\]):\s+(.*)$`)
	entities  = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&nbsp;", " ", "&lrm;", "", "&rlm;", "")
)

// cleanCueText removes cue markup (tags, inline timestamps) and returns the
// speaker named by a <v> tag, if any.
func cleanCueText(t string) (string, string) {
	speaker := ""
	if m := voiceRe.FindStringSubmatch(t); m != nil {
		speaker = strings.TrimSpace(m[1])
	}
	t = tagRe.ReplaceAllString(t, "")
	t = entities.Replace(t)
	var lines []string
	for _, l := range strings.Split(t, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n"), speaker
}

// fromCues cleans cue text, finds speakers and collapses the rolling
// captions of YouTube auto-captions, where each cue repeats the line shown
// before it and adds one.
func fromCues(cues []*Cue) []Line {
	var out []Line
	var prevLines []string
	for _, c := range cues {
		text, speaker := cleanCueText(c.Text)
		if text == "" {
			continue
		}
		lines := strings.Split(text, "\n")
		// Drop leading lines that repeat the end of the previous cue. The
		// previous cue's lines are looked up in a set when there are many:
		// scanning them for each line was quadratic (two cues of 150,000
		// lines, the second reversed, took 31 s).
		k := 0
		var prevSet map[string]bool
		if len(prevLines) > 16 {
			prevSet = make(map[string]bool, len(prevLines))
			for _, l := range prevLines {
				prevSet[l] = true
			}
		}
		for k < len(lines) && k < len(prevLines) && (prevSet != nil && prevSet[lines[k]] || prevSet == nil && containsLine(prevLines, lines[k])) {
			k++
		}
		prevLines = lines
		lines = lines[k:]
		if len(lines) == 0 {
			// A cue that only repeats what was shown extends its time.
			if len(out) > 0 && c.End > out[len(out)-1].End {
				out[len(out)-1].End = c.End
			}
			continue
		}
		for _, l := range lines {
			sp := speaker
			if m := speakerRe.FindStringSubmatch(l); m != nil && sp == "" {
				sp, l = strings.Trim(m[1], "[] "), m[2]
			}
			l = strings.TrimPrefix(l, "- ")
			out = append(out, Line{Start: c.Start, End: c.End, Speaker: sp, Text: l})
		}
	}
	return out
}

func containsLine(ls []string, l string) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// parseSpeakerText reads plain text with "Speaker: text" turns; lines
// without a speaker continue the previous turn.
func parseSpeakerText(s string) []Line {
	var out []Line
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if m := speakerRe.FindStringSubmatch(l); m != nil {
			out = append(out, Line{Speaker: strings.Trim(m[1], "[] "), Text: m[2]})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].Text += " " + l
		} else {
			out = append(out, Line{Text: l})
		}
	}
	return out
}

// IsSpeakerText tells whether plain text looks like a speaker-labelled
// transcript: most non-empty lines start with "Name:".
func IsSpeakerText(b []byte) bool {
	s := preprocess(b[:min(len(b), 16384)])
	n, sp := 0, 0
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n++
		if speakerRe.MatchString(l) {
			sp++
		}
	}
	return n >= 2 && sp*2 >= n
}
