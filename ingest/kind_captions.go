package ingest

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/tuneline/tuneline/ingest/transcript"
)

// Caption and transcript kinds: the four formats package transcript reads,
// each merged into sentences and paragraphs with time ranges and speakers.
const (
	KindVTT        = "vtt"
	KindSRT        = "srt"
	KindSBV        = "sbv"
	KindTranscript = "transcript" // "Speaker: text" turns
)

var kindVTT = &inputKind{
	Name: KindVTT,
	Detect: func(s *sniff) bool {
		if bytes.HasPrefix(s.trim, []byte("WEBVTT")) {
			return true
		}
		switch s.captions() {
		case transcript.KindWebVTT:
			return true
		case transcript.KindSRT: // SRT cues in a file named .vtt
			return s.ext == ".vtt"
		}
		return false
	},
	Cost:    textCost,
	Extract: captionExtract(transcript.KindWebVTT),
}

var kindSRT = &inputKind{
	Name:    KindSRT,
	Detect:  func(s *sniff) bool { return s.captions() == transcript.KindSRT },
	Cost:    textCost,
	Extract: captionExtract(transcript.KindSRT),
}

var kindSBV = &inputKind{
	Name:    KindSBV,
	Detect:  func(s *sniff) bool { return s.captions() == transcript.KindSBV },
	Cost:    textCost,
	Extract: captionExtract(transcript.KindSBV),
}

// kindTranscript is tried after Markdown and HTML: "Speaker: text" lines
// are told by layout alone.
var kindTranscript = &inputKind{
	Name:    KindTranscript,
	Detect:  func(s *sniff) bool { return transcript.IsSpeakerText(s.b) },
	Cost:    textCost,
	Extract: captionExtract(transcript.KindText),
}

// captionExtract reads a transcript of the given transcript.Kind.
func captionExtract(format string) func(*Document, []byte, *sniff, *Budget) error {
	return func(d *Document, b []byte, _ *sniff, _ *Budget) error {
		if !utf8.Valid(b) && bytes.IndexByte(b, 0) >= 0 {
			return errors.New("binary data, not a transcript")
		}
		lines, probs := transcript.Parse(b, format)
		for _, p := range probs {
			d.Warnings = append(d.Warnings, p.String())
		}
		d.Segments = transcriptSegments(lines)
		d.Title = strings.TrimSuffix(filepath.Base(d.Source), filepath.Ext(d.Source))
		if len(lines) == 0 && d.Kind == KindVTT && len(bytes.Fields(b)) > 1 && utf8.Valid(b) {
			// "WEBVTT is a format..." starts as WebVTT does but has no cue:
			// it gave 0 tokens and exit 0.
			d.Kind = KindText
			d.Title, d.Segments = ExtractMarkdown(string(b), looksMarkdown(b))
			d.Warnings = append(d.Warnings, "read as text: it starts with WEBVTT but holds no cue")
		}
		return nil
	}
}
