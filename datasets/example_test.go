package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContentID(t *testing.T) {
	m := func(kv ...string) []Message {
		var ms []Message
		for i := 0; i < len(kv); i += 2 {
			ms = append(ms, Message{Role: kv[i], Content: kv[i+1]})
		}
		return ms
	}
	base := ContentID(m("user", "hi", "assistant", "hello"))
	if len(base) != 19 || base[:3] != "ex-" {
		t.Fatalf("ContentID = %q, want ex- and 16 hex digits", base)
	}
	// Pinned: ids are written into datasets and compared across runs, so a
	// change of the hash must be deliberate.
	if want := "ex-60669814d8d5bfbd"; base != want {
		t.Errorf("ContentID = %q, want %q", base, want)
	}
	for _, tc := range []struct {
		name string
		msgs []Message
	}{
		{"content boundary moved", m("user", "hih", "assistant", "ello")},
		{"role and content boundary", m("use", "rhi", "assistant", "hello")},
		{"other role", m("system", "hi", "assistant", "hello")},
		{"one message more", m("user", "hi", "assistant", "hello", "user", "")},
		{"case", m("user", "Hi", "assistant", "hello")},
	} {
		if got := ContentID(tc.msgs); got == base {
			t.Errorf("%s: same id %s as the base conversation", tc.name, got)
		}
	}
	if again := ContentID(m("user", "hi", "assistant", "hello")); again != base {
		t.Errorf("not stable: %s then %s", base, again)
	}
	msgs := m("user", "hi", "assistant", "hello")
	if n := testing.AllocsPerRun(100, func() { ContentID(msgs) }); n > 1 && !raceEnabled {
		t.Errorf("ContentID allocates %v times, want 1 (the string)", n)
	}
}

func TestContentIDLongRole(t *testing.T) {
	long := "a-role-name-longer-than-the-separator-buffer"
	a := ContentID([]Message{{Role: long, Content: "x"}, {Role: "user", Content: "y"}})
	b := ContentID([]Message{{Role: long + "x", Content: ""}, {Role: "user", Content: "y"}})
	if a == b {
		t.Errorf("role/content boundary lost for long roles: both %s", a)
	}
}

func BenchmarkContentID(b *testing.B) {
	msgs := []Message{{Role: "system", Content: strings.Repeat("You are a physics expert. ", 5)},
		{Role: "user", Content: strings.Repeat("Why is the sky blue? ", 4)},
		{Role: "assistant", Content: strings.Repeat("Rayleigh scattering of sunlight by the air. ", 12)}}
	for b.Loop() {
		ContentID(msgs)
	}
}

// Chunks reads every chunk with its place, and ends at the first line that
// is not a chunk with an error naming file and line.
func TestChunks(t *testing.T) {
	dir := t.TempDir()
	good := `{"id":"a","doc_id":"d","seq":0,"source":"s.pdf","kind":"pdf","page_start":2,"tokens":3,"text":"one two three"}` + "\n\n" +
		`{"id":"b","doc_id":"d","seq":1,"source":"s.pdf","kind":"pdf","tokens":1,"text":"four"}` + "\n"
	for _, tt := range []struct {
		name, text string
		ids        []string
		err        string
	}{
		{"good", good, []string{"a", "b"}, ""},
		{"bad json", good + "{not json\n", []string{"a", "b"}, "bad.jsonl:4: not a chunk"},
		{"no text", `{"id":"c","text":""}` + "\n", nil, "bad.jsonl:1: not a chunk: it has no id or no text"},
		{"no id", `{"text":"x"}`, nil, "bad.jsonl:1: not a chunk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.jsonl")
			os.WriteFile(p, []byte(tt.text), 0o644)
			var ids []string
			var gotErr error
			for c, err := range Chunks(p) {
				if err != nil {
					gotErr = err
					break
				}
				ids = append(ids, c.ID)
				if c.ID == "b" && (c.Line != 3 || c.Offset != int64(strings.Index(tt.text, `{"id":"b"`))) {
					t.Errorf("chunk b at line %d offset %d", c.Line, c.Offset)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
			if (gotErr == nil) != (tt.err == "") || gotErr != nil && !strings.Contains(gotErr.Error(), tt.err) {
				t.Errorf("error %v, want %q", gotErr, tt.err)
			}
		})
	}
}
