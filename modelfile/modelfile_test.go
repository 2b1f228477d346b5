package modelfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/ollama/ollama/parser"
)

// parsed returns what Ollama's parser reads from text: command name and
// value, in order.
func parsed(t testing.TB, text string) ([][2]string, error) {
	f, err := parser.ParseFile(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, c := range f.Commands {
		out = append(out, [2]string{c.Name, c.Args})
	}
	return out, nil
}

func want(s *Spec) [][2]string {
	out := [][2]string{{"model", s.From}}
	if s.Adapter != "" {
		out = append(out, [2]string{"adapter", s.Adapter})
	}
	if s.Template != "" {
		out = append(out, [2]string{"template", s.Template})
	}
	if s.System != "" {
		out = append(out, [2]string{"system", s.System})
	}
	for _, p := range s.Params {
		out = append(out, [2]string{p.Name, p.Value})
	}
	for _, m := range s.Messages {
		out = append(out, [2]string{"message", m.Role + ": " + m.Content})
	}
	for _, l := range s.License {
		out = append(out, [2]string{"license", l})
	}
	return out
}

func equal(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Hostile personas come back identical through Ollama's own parser.
func TestRoundTrip(t *testing.T) {
	hostile := []string{
		"plain",
		"You are \"Ada\", a physicist.",
		"\"starts with a quote",
		"ends with a quote\"",
		"ends with two quotes\"\"",
		"ends with three quotes\"\"\"",
		"line one\nline two\n",
		"  leading and trailing spaces  ",
		"\tindented with a tab\n\t\tand more",
		"back\\slash \\n not a newline \\\"",
		"non-ASCII: Grüße, 物理学, emoji 😀, ∀x∈ℝ",
		"\n\nstarts with blank lines",
		"middle \"\"\" triple quotes mid-line are fine",
		"CRLF\r\nline endings\r\n",
		"a line with only quotes:\n\"\"\n\"\nend",
		"",
		"#not a comment",
		"PARAMETER inside text\nFROM nothing",
	}
	for _, h := range hostile {
		s := &Spec{From: "llama3.2", System: h, Template: "{{ .System }}" + h, Params: []Param{{"temperature", "0.7"}, {"stop", "<|end|>"}, {"stop", h + "x"}},
			Messages: []Message{{"user", h + "?"}, {"assistant", "A: " + h}}, License: []string{h + "MIT"}}
		if h == "" {
			s.System, s.Params = "", s.Params[:2]
		}
		text, err := s.Render()
		if h == "ends with three quotes\"\"\"" {
			// fine at the very end of a value: the closing quotes follow
		}
		if err != nil {
			t.Errorf("%q: %v", h, err)
			continue
		}
		got, err := parsed(t, text)
		if err != nil {
			t.Errorf("%q: parser: %v\n%s", h, err, text)
			continue
		}
		if !equal(got, want(s)) {
			t.Errorf("%q: round trip differs:\n got %q\nwant %q\n%s", h, got, want(s), text)
		}
	}
}

// Exactly the strings Ollama's parser cannot return are refused, with the
// offending text named.
func TestUnwritable(t *testing.T) {
	tests := []struct{ in, frag string }{
		{"first\"\"\"\nsecond", `first"""`},
		{"x\n\"\"\"\ny", `"""`},
		{"trailing blanks after quotes\"\"\"  \nmore", `"""`},
		{"nbsp\u00a0inside", "U+00A0"},
		{"bell\a", "U+0007"},
		{"soft\u00adhyphen", "U+00AD"},
		{"zero\u200bwidth", "U+200B"},
	}
	for _, tt := range tests {
		s := &Spec{From: "base", System: tt.in}
		_, err := s.Render()
		var ue *UnwritableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.frag) || !strings.Contains(err.Error(), "API") {
			t.Errorf("%q: err %v", tt.in, err)
		}
		// and it really does not survive a naive Modelfile
		naive := "FROM base\nSYSTEM \"\"\"" + tt.in + "\"\"\"\n"
		got, err := parsed(t, naive)
		if err == nil && equal(got, want(s)) {
			t.Errorf("%q was refused but the parser reads it back", tt.in)
		}
	}
}

func TestParamsChecked(t *testing.T) {
	s := &Spec{From: "base", Params: []Param{{"temprature", "0.5"}}}
	if _, err := s.Render(); err == nil || !strings.Contains(err.Error(), "unknown parameter") || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("err %v", err)
	}
	s = &Spec{From: "base", Params: []Param{{"num_ctx", "lots"}}}
	if _, err := s.Render(); err == nil || !strings.Contains(err.Error(), "num_ctx") {
		t.Errorf("err %v", err)
	}
	s = &Spec{From: "base", Params: []Param{{"num_ctx", "4096"}, {"stop", "a"}, {"stop", "b"}, {"temperature", "0.2"}}}
	p, err := s.TypedParams()
	if err != nil || p["num_ctx"] != int64(4096) || len(p["stop"].([]string)) != 2 || p["temperature"] != float32(0.2) {
		t.Errorf("typed %#v %v", p, err)
	}
}

// Any string either round-trips or is refused, and a refused one really
// breaks a naive Modelfile.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"a", "\"\"\"\n", "x\ny\"", " \t", "\u00a0", "é\r\n", "\"\"\"\"\"\"\n\n\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		s := &Spec{From: "base", System: h, Messages: []Message{{"user", h}}}
		text, err := s.Render()
		if err != nil {
			var ue *UnwritableError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %v", h, err)
			}
			for _, naive := range []string{"FROM base\nSYSTEM \"\"\"" + h + "\"\"\"\n", "FROM base\nSYSTEM " + h + "\n"} {
				if got, err := parsed(t, naive); err == nil && len(got) == 2 && got[1] == [2]string{"system", h} {
					t.Fatalf("%q refused, but %q reads back", h, naive)
				}
			}
			return
		}
		got, err := parsed(t, text)
		if err != nil {
			t.Fatalf("%q: parser: %v\n%s", h, err, text)
		}
		if !equal(got, want(s)) {
			t.Fatalf("%q: round trip differs: %q", h, got)
		}
	})
}
