package transcript

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

var subtitles = testenv.Corpus("subtitles") + "/"

// Every subtitle file of the corpus is read without a panic: its cues, or
// its problems with a line number.
func TestCorpusSubtitles(t *testing.T) {
	files, _ := filepath.Glob(subtitles + "*/*.srt")
	more, _ := filepath.Glob(subtitles + "*/tests/subtitles/*")
	files = append(files, more...)
	if len(files) < 30 {
		t.Fatalf("found %d subtitle files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		kind := Detect(b)
		lines, probs := Parse(b, kind)
		for _, p := range probs {
			if p.Line <= 0 || p.Reason == "" {
				t.Errorf("%s: problem without line or reason: %+v", f, p)
			}
		}
		for _, l := range lines {
			if strings.ContainsAny(l.Text, "<>") && !strings.Contains(f, "styles") {
				t.Errorf("%s: markup left in %q", f, l.Text)
			}
		}
	}
}

func TestTranscriptParsing(t *testing.T) {
	tests := []struct {
		file  string
		kind  string
		n     int
		first Line
		last  string
	}{
		{"sintel/sintel_en.srt", KindSRT, 0, Line{Start: 137.25, End: 140.5, Text: "This blade has a dark past."}, ""},
		{"webvtt-py/tests/subtitles/sample.sbv", KindSBV, 0, Line{Start: 0.378, End: 11.378, Text: "Caption text #1"}, ""},
		{"webvtt-py/tests/subtitles/cue_tags.vtt", KindWebVTT, 3, Line{Start: 16.5, End: 18.5, Text: "When the moon hits your eye"}, "That's amore"},
		{"webvtt-py/tests/subtitles/youtube_dl.vtt", KindWebVTT, 0, Line{Start: 286.07, End: 286.47, Text: "yeah"}, ""},
		{"webvtt-py/tests/subtitles/invalid_timeframe.vtt", KindWebVTT, 6, Line{Start: 0.5, End: 7, Text: "Caption text #1"}, "Caption text #7"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(subtitles + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if k := Detect(b); k != tt.kind {
				t.Fatalf("Detect = %q, want %q", k, tt.kind)
			}
			lines, _ := Parse(b, tt.kind)
			if len(lines) == 0 || lines[0] != tt.first {
				t.Fatalf("first line %+v, want %+v", lines, tt.first)
			}
			if tt.n > 0 && len(lines) != tt.n {
				t.Errorf("%d lines, want %d: %+v", len(lines), tt.n, lines)
			}
			if tt.last != "" && lines[len(lines)-1].Text != tt.last {
				t.Errorf("last %q, want %q", lines[len(lines)-1].Text, tt.last)
			}
		})
	}
}

// YouTube auto-captions repeat the previous line in each cue: the text
// comes out once.
func TestYouTubeRollingCollapsed(t *testing.T) {
	b, _ := os.ReadFile(subtitles + "webvtt-py/tests/subtitles/youtube_dl.vtt")
	lines, _ := Parse(b, KindWebVTT)
	var words []string
	for _, l := range lines {
		words = append(words, l.Text)
	}
	all := strings.Join(words, " ")
	if strings.Count(all, "this will happen is I'm telling") > 1 || strings.Count(all, "yeah") > 1 {
		t.Errorf("rolling duplicates kept: %q", all)
	}
}

func TestSpeakerText(t *testing.T) {
	in := "Interviewer: So what is entropy?\nProf. Lee: It counts microstates.\nIt grows.\n\nInterviewer: Thanks.\n"
	if !IsSpeakerText([]byte(in)) {
		t.Fatal("not recognised as a speaker transcript")
	}
	lines := parseSpeakerText(preprocess([]byte(in)))
	want := []Line{{Speaker: "Interviewer", Text: "So what is entropy?"}, {Speaker: "Prof. Lee", Text: "It counts microstates. It grows."}, {Speaker: "Interviewer", Text: "Thanks."}}
	if len(lines) != len(want) {
		t.Fatalf("%+v", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, lines[i], want[i])
		}
	}
}

func FuzzParseTranscripts(f *testing.F) {
	for _, s := range []string{"WEBVTT\n\n00:01.000 --> 00:02.000 line:0 region:x\n<v Bob>hi</v>\n", "1\n00:00:01,000 --> 00:00:02,000\nhi\n", "0:00:01.000,0:00:02.000\nhi\n", "A: b\nC: d\n",
		"WEBVTT\n\nREGION\nid:r lines:3 regionanchor:0%,100%\n\n00:00.000 --> 00:01.000 region:r\nx",
		// the shapes of the hostile-input issue: a colon mid-sentence, an
		// impossible time, an over-long word
		"1\n00:00:01,000 --> 00:00:02,000\nThe first rule is simple: a backup\n", "1\n99:99:99,999 --> 99:99:99,999\nx\n",
		"WEBVTT\n\n00:00.000 --> 00:01.000\n" + strings.Repeat("w", 5000) + "\n",
		// round two: text that starts as WebVTT does, a rolling cue repeated reversed
		"WEBVTT is a text format for captions.\n\nMore text.\n",
		"WEBVTT\n\n00:00.000 --> 00:01.000\na\nb\nc\n\n00:01.000 --> 00:02.000\nc\nb\na\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// lines as the parsers count them: CR LF, CR and LF end one
		nl := bytes.Count(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n")), []byte("\n")) + 1
		for _, k := range []string{KindWebVTT, KindSRT, KindSBV, KindText} {
			lines, probs := Parse(b, k)
			for _, l := range lines {
				if math.IsNaN(l.Start) || math.IsNaN(l.End) || l.Start < 0 || l.End < l.Start {
					t.Fatalf("%s: line with times %v..%v", k, l.Start, l.End)
				}
				if strings.TrimSpace(l.Text) == "" {
					t.Fatalf("%s: empty line %+v", k, l)
				}
			}
			for _, p := range probs {
				if p.Line < 1 || p.Line > nl || p.Reason == "" {
					t.Fatalf("%s: problem %+v in a file of %d lines", k, p, nl)
				}
			}
		}
		Detect(b)
	})
}

// A colon inside a sentence is not a speaker label; names and roles are.
func TestSpeakerLabels(t *testing.T) {
	for _, tt := range []struct{ line, speaker string }{
		{"The first rule is simple: a backup you never restored is not a backup.", ""},
		{"Note that: this is text", ""},
		{"Dr. Smith: Welcome back.", "Dr. Smith"},
		{"NARRATOR: Long ago.", "NARRATOR"},
		{"Mary Ann: Hello.", "Mary Ann"},
		{"[Music]: la la", "[Music]"},
		{">> Q: What is it?", "Q"},
	} {
		m := speakerRe.FindStringSubmatch(tt.line)
		got := ""
		if m != nil {
			got = m[1]
		}
		if got != tt.speaker {
			t.Errorf("%q: speaker %q, want %q", tt.line, got, tt.speaker)
		}
	}
	// In an SRT file: the sentence stays one paragraph with its cue.
	srt := "1\n00:00:01,000 --> 00:00:04,000\nThe first rule is simple: a backup\nyou never restored is not a backup.\n\n2\n99:99:99,999 --> 99:99:99,999\nbad\n\n3\n00:00:05,000 --> 00:00:06,000\nDr. Smith: Exactly.\n"
	lines, probs := Parse([]byte(srt), KindSRT)
	if len(lines) < 2 || lines[0].Speaker != "" || !strings.Contains(lines[0].Text, "The first rule is simple: a backup") {
		t.Errorf("lines %+v", lines)
	}
	if lines[len(lines)-1].Speaker != "Dr. Smith" {
		t.Errorf("last line %+v", lines[len(lines)-1])
	}
	if len(probs) == 0 || probs[0].Line != 7 || !strings.Contains(probs[0].Reason, "up to 59") {
		t.Errorf("problems %+v: want the 99:99:99 timing refused at line 7", probs)
	}
	for _, l := range lines {
		if l.Text == "bad" {
			t.Error("the cue with the impossible time was kept")
		}
	}
}

// A WebVTT cue that ends before it starts is kept by the specification's
// parser; Parse swaps its times and says so with the timing line's number,
// as it does for SRT (found by FuzzParseTranscripts: a Line ended before
// it started, 600..0).
func TestWebVTTBackwardCue(t *testing.T) {
	in := "WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nfirst\r\n\r\nid\r\n10:00.000 --> 00:00.000\r\nbackward\r\n\r\n00:03.000 --> 00:04.000\r\nlast\r\n"
	lines, probs := Parse([]byte(in), KindWebVTT)
	want := []Line{{Start: 1, End: 2, Text: "first"}, {Start: 0, End: 600, Text: "backward"}, {Start: 3, End: 4, Text: "last"}}
	if len(lines) != len(want) {
		t.Fatalf("lines %+v", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, lines[i], want[i])
		}
	}
	if len(probs) != 1 || probs[0].Line != 7 || !strings.Contains(probs[0].Reason, "times swapped") {
		t.Errorf("problems %+v: want the backward cue at line 7", probs)
	}
}
