package datasets

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/tuneline/tuneline/internal/corpus"
)

var chatSamples = corpus.Path("chat-samples") + "/"

// Every file of the chat-samples corpus loads, or is refused row by row with
// the reason: nothing is dropped silently.
func TestChatSamplesLoadOrRefuse(t *testing.T) {
	want := map[string]map[string]int{
		"openai-cookbook/toy_chat_fine_tuning.jsonl":     {FormatOpenAI: 5},
		"vertex-gemini/patient_1_glucose_examples.jsonl": {FormatVertex: 1},
		"llama-factory/identity.json":                    {FormatAlpaca: 91},
		"llama-factory/v1_sft_demo.jsonl":                {FormatOpenAI: 500},
		"llama-factory/glaive_toolcall_en_demo.json":     {FormatShareGPT: 300},
		"llama-factory/dpo_en_demo.json":                 {FormatShareGPT: 300},
		"llama-factory/kto_en_demo.json":                 {ErrPreferenceLabel: 300},
		"llama-factory/mllm_demo.json":                   {ErrImages: 6},
		"llama-factory/dataset_info.json":                {ErrUnknownShape: 1},
		"openai-docs/tool_calling_example.jsonl":         {FormatOpenAI: 1},
		"vertex-docs/function_calling_example.jsonl":     {FormatVertex: 1},
	}
	files, _ := filepath.Glob(chatSamples + "*/*.json*")
	if len(files) != len(want) {
		t.Errorf("corpus has %d files, the test knows %d: %v", len(files), len(want), files)
	}
	for name, counts := range want {
		got := map[string]int{}
		for rec, err := range ReadFile(context.Background(), chatSamples+name) {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if rec.Err != nil {
				if rec.Err.Reason == "" || rec.Pos.Line == 0 {
					t.Errorf("%s: refusal without a reason or line: %+v", name, rec)
				}
				got[rec.Err.Category]++
				continue
			}
			if len(rec.Example.Messages) == 0 {
				t.Errorf("%s: %s: loaded with no messages", name, rec.Pos)
			}
			got[rec.Format]++
		}
		if len(got) != len(counts) {
			t.Errorf("%s: got %v, want %v", name, got, counts)
		}
		for k, v := range counts {
			if got[k] != v {
				t.Errorf("%s: %s = %d, want %d (all: %v)", name, k, got[k], v, got)
			}
		}
	}
}

func TestShapes(t *testing.T) {
	tests := []struct {
		name, in string
		format   string
		msgs     string // role:content|...
		errCat   string
	}{
		{"openai", `{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}`, FormatOpenAI, "system:S|user:Q|assistant:A", ""},
		{"openai parts", `{"messages":[{"role":"user","content":[{"type":"text","text":"Q1"},{"type":"text","text":"Q2"}]},{"role":"assistant","content":"A"}]}`, FormatOpenAI, "user:Q1Q2|assistant:A", ""},
		{"openai tool calls", `{"messages":[{"role":"user","content":"Q"},{"role":"assistant","tool_calls":[{"id":"x","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"x","content":"R"},{"role":"assistant","content":"A"}]}`, FormatOpenAI, "user:Q|assistant:|tool:R|assistant:A", ""},
		{"openai tool calls on a user", `{"messages":[{"role":"user","content":"Q","tool_calls":[{"id":"x"}]}]}`, "", "", ErrBadField},
		{"openai legacy function", `{"messages":[{"role":"user","content":"Q"},{"role":"assistant","function_call":{"name":"f"}}]}`, "", "", ErrToolCalls},
		{"sharegpt", `{"conversations":[{"from":"system","value":"S"},{"from":"human","value":"Q"},{"from":"gpt","value":"A"}]}`, FormatShareGPT, "system:S|user:Q|assistant:A", ""},
		{"sharegpt system column", `{"system":"S","conversations":[{"from":"human","value":"Q"},{"from":"gpt","value":"A"}]}`, FormatShareGPT, "system:S|user:Q|assistant:A", ""},
		{"sharegpt function", `{"conversations":[{"from":"human","value":"Q"},{"from":"function_call","value":"{\"name\":\"f\",\"arguments\":{}}"},{"from":"observation","value":"R"},{"from":"gpt","value":"A"}],"tools":"[{\"name\":\"f\"}]"}`, FormatShareGPT, "user:Q|assistant:|tool:R|assistant:A", ""},
		{"sharegpt bad function", `{"conversations":[{"from":"human","value":"Q"},{"from":"function_call","value":"f()"}]}`, "", "", ErrBadField},
		{"sharegpt orphan observation", `{"conversations":[{"from":"human","value":"Q"},{"from":"observation","value":"R"}]}`, "", "", ErrBadField},
		{"alpaca", `{"instruction":"I","input":"X","output":"O","system":"S","history":[["q","a"]]}`, FormatAlpaca, "system:S|user:q|assistant:a|user:I\nX|assistant:O", ""},
		{"alpaca no input", `{"instruction":"I","input":"","output":"O"}`, FormatAlpaca, "user:I|assistant:O", ""},
		{"vertex", `{"systemInstruction":{"role":"system","parts":[{"text":"S"}]},"contents":[{"role":"user","parts":[{"text":"Q"}]},{"role":"model","parts":[{"text":"A"}]}]}`, FormatVertex, "system:S|user:Q|assistant:A", ""},
		{"interaction log", `{"timestamp":"2024-01-01T00:00:00","query":"Q","response":"A"}`, FormatInteraction, "user:Q|assistant:A", ""},
		{"sharegpt ranking", `{"conversations":[{"from":"human","value":"Q"}],"chosen":{"from":"gpt","value":"a"},"rejected":{"from":"gpt","value":"b"}}`, FormatShareGPT, "user:Q|assistant:a", ""},
		{"openai dpo", `{"input":{"messages":[{"role":"user","content":"Q"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}`, FormatOpenAIDPO, "user:Q|assistant:a", ""},
		{"trl conversational", `{"prompt":[{"role":"user","content":"Q"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, FormatTRL, "user:Q|assistant:a", ""},
		{"trl standard", `{"prompt":"Q","chosen":"a","rejected":"b"}`, FormatTRL, "user:Q|assistant:a", ""},
		{"trl implicit prompt", `{"chosen":[{"role":"user","content":"Q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"Q"},{"role":"assistant","content":"b"}]}`, FormatTRL, "user:Q|assistant:a", ""},
		{"trl implicit prompt differs", `{"chosen":[{"role":"user","content":"Q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"P"},{"role":"assistant","content":"b"}]}`, "", "", ErrPreferencePair},
		{"trl one side", `{"prompt":"Q","chosen":"a"}`, "", "", ErrPreferencePair},
		{"alpaca ranking", `{"instruction":"I","input":"X","chosen":"a","rejected":"b"}`, FormatAlpaca, "user:I\nX|assistant:a", ""},
		{"tuneline pair", `{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, FormatOpenAI, "user:Q|assistant:a", ""},
		{"kto", `{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}],"label":true}`, "", "", ErrPreferenceLabel},
		{"image", `{"messages":[{"role":"user","content":"<image>Q"},{"role":"assistant","content":"A"}],"images":["a.jpg"]}`, "", "", ErrImages},
		{"array", `[1,2]`, "", "", ErrNotObject},
		{"truncated", `{"messages":[{"role":"user"`, "", "", ErrInvalidJSON},
		{"wrong type", `{"messages":"hi"}`, "", "", ErrBadField},
		{"unknown", `{"text":"hi"}`, "", "", ErrUnknownShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, format, err := ParseRecord([]byte(tt.in))
			if tt.errCat != "" {
				if err == nil || err.Category != tt.errCat {
					t.Fatalf("err = %v, want category %s", err, tt.errCat)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if format != tt.format {
				t.Errorf("format %q, want %q", format, tt.format)
			}
			var parts []string
			for _, m := range ex.Messages {
				parts = append(parts, m.Role+":"+m.Content)
			}
			if got := strings.Join(parts, "|"); got != tt.msgs {
				t.Errorf("messages %q, want %q", got, tt.msgs)
			}
		})
	}
}

func TestReaderPositionsAndRecovery(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines []int
		bad   []int // lines of refused records
	}{
		{"jsonl with bad line and blanks", "\ufeff{\"text\":1}\n\n{bad\r\n{\"messages\":[]}\n", []int{1, 3, 4}, []int{1, 3}},
		{"array", "[\n {\"messages\":[]},\n {\"x\":\n 1}\n]\n", []int{2, 3}, []int{3}},
		{"pretty object", "{\n  \"a\": {\"b\": 1}\n}\n", []int{1}, []int{1}},
		{"no final newline", `{"query":"q","response":"r"}`, []int{1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines, bad []int
			for raw, err := range RawRecords(context.Background(), strings.NewReader(tt.in), "in") {
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, raw.Pos.Line)
				if r := raw.Decode(); r.Err != nil {
					bad = append(bad, raw.Pos.Line)
				}
			}
			if !equal(lines, tt.lines) || !equal(bad, tt.bad) {
				t.Errorf("lines %v bad %v; want %v and %v", lines, bad, tt.lines, tt.bad)
			}
		})
	}
}

func equal(a, b []int) bool {
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

// FuzzReadRecords: any input is split into records or a file error, never a
// panic, and every record decodes to an example or a refusal with a reason.
func FuzzReadRecords(f *testing.F) {
	for _, s := range []string{"{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n{bad\n", "[{\"instruction\":\"i\",\"output\":\"o\"}]", "{\n\"a\":1}\n", "\ufeff\n\n", "[1,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for raw, err := range RawRecords(context.Background(), strings.NewReader(string(data)), "fuzz") {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz:") {
					t.Fatalf("file error without position: %v", err)
				}
				return
			}
			rec := raw.Decode()
			if rec.Err != nil && rec.Err.Reason == "" {
				t.Fatalf("refusal without reason for %q", raw.Data)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{`{"messages":[{"role":"user","content":[{"type":"text","text":"q"}]}]}`,
		`{"conversations":[{"from":"human","value":"q"}],"system":"s"}`, `{"instruction":"i","history":[["a","b"]],"output":"o"}`,
		`{"contents":[{"role":"user","parts":[{"text":"q"}]}]}`,
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"a","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
		`{"conversations":[{"from":"human","value":"q"},{"from":"function_call","value":"[{\"name\":\"f\",\"arguments\":\"{}\"}]"},{"from":"observation","value":"r"}],"tools":"[{\"name\":\"f\"}]"}`,
		`{"input":{"messages":[{"role":"user","content":"q"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":{"role":"assistant","content":"b"}}`,
		`{"chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"b"}]}`,
		`{"instruction":"i","input":"x","chosen":"a","rejected":"b","history":[["c","d"]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, format, err := ParseRecord(data)
		if err == nil {
			if format == "" {
				t.Fatalf("accepted %q without a format", data)
			}
			if _, jerr := json.Marshal(ex); jerr != nil {
				t.Fatalf("accepted %q into an example that does not marshal: %v", data, jerr)
			}
		}
		if err != nil && err.Reason == "" {
			t.Fatalf("refused %q without a reason", data)
		}
	})
}

// The fast path for plain OpenAI records gives exactly what the general
// decoder gives, whenever it accepts a record.
func FuzzFastPathMatchesGeneral(f *testing.F) {
	for _, s := range []string{
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`,
		`{"id":"x1", "messages" : [ {"content":"q\n\u00e9\ud83d\ude00","role":"user"} ] }`,
		`{"messages":[]}`, `{"messages":[{"role":"tool","content":"x"}]}`, `{"messages":[{"role":"user","content":"\ud800"}]}`,
		`{"messages":[{"role":"user","content":"a","content":"b"}]}`, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := parseOpenAIFast(bytes.Clone(data), true) // the aliasing path Raw.Decode takes
		if !ok {
			return
		}
		slow, format, err := parseRecord(data)
		if err != nil {
			t.Fatalf("fast path accepted %q, general decoder refused: %v", data, err)
		}
		if format != FormatOpenAI || fast.ID != slow.ID || fast.Meta.Format != slow.Meta.Format || len(fast.Messages) != len(slow.Messages) {
			t.Fatalf("%q: fast %+v, general %+v", data, fast, slow)
		}
		for i := range fast.Messages {
			if !reflect.DeepEqual(fast.Messages[i], slow.Messages[i]) {
				t.Fatalf("%q: message %d fast %+v, general %+v", data, i, fast.Messages[i], slow.Messages[i])
			}
		}
	})
}

// The 8-byte string scan finds a quote, an escape, a control character or
// a non-ASCII byte at every offset of a word, and its result matches the
// general decoder's.
func TestFastPathStringOffsets(t *testing.T) {
	specials := []string{`\"`, `\\`, `\n`, `\u00e9`, "\u00e9", "\xe9", "\x01", "\u4e2d", "\xff\xfe"}
	for _, sp := range specials {
		for off := 0; off < 48; off++ {
			content := strings.Repeat("a", off%24) + sp + strings.Repeat("b", 20*(off/24)) // ending right after sp, or not
			line := []byte(`{"messages":[{"role":"user","content":"` + content + `"},{"role":"assistant","content":"` + strings.Repeat("c", off) + `"}]}`)
			fast, ok := parseOpenAIFast(bytes.Clone(line), true)
			slow, _, err := parseRecord(line)
			if !ok {
				if err == nil && utf8.Valid(line) && !strings.ContainsRune(content, 1) {
					t.Errorf("offset %d, %q: fast path refused a valid record", off, sp)
				}
				continue
			}
			if err != nil {
				t.Fatalf("offset %d, %q: fast path accepted, general decoder refused: %v", off, sp, err)
			}
			for i := range fast.Messages {
				if !reflect.DeepEqual(fast.Messages[i], slow.Messages[i]) {
					t.Fatalf("offset %d, %q: message %d fast %q, general %q", off, sp, i, fast.Messages[i].Content, slow.Messages[i].Content)
				}
			}
		}
	}
}

// Writing "atomically" to a device or pipe writes to it in place:
// renaming over /dev/null would replace the device with a regular file.
// Checked on a named pipe, which takes the same path harmlessly.
func TestAtomicFileOnDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	a, err := CreateAtomic(fifo)
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString("through the pipe\n")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe\n" {
		t.Errorf("read %q", s)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the pipe was replaced: %v %v", st.Mode(), err)
	}
}

// Lines are cut out of 1 MiB read buffers: lines that straddle buffers,
// lines longer than a buffer, blank lines and a last line without a newline
// all come back whole, with their line numbers.
func TestRawRecordsAcrossBuffers(t *testing.T) {
	var in strings.Builder
	var want []string
	wantLine := map[string]int{}
	line := 0
	for i, size := range []int{10, 1 << 20, 5, 3<<20 + 7, 1<<20 - 40, 0, 700000, 1, 2 << 20} {
		line++
		if size == 0 {
			in.WriteString("\n") // blank line: counted, not yielded
			continue
		}
		s := `{"n":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("x", size) + `"}`
		in.WriteString(s)
		if i != 8 {
			in.WriteString("\r\n")
		}
		want = append(want, s)
		wantLine[s] = line
	}
	got := 0
	for raw, err := range RawRecords(context.Background(), strings.NewReader(in.String()), "big.jsonl") {
		if err != nil {
			t.Fatal(err)
		}
		if got >= len(want) || string(raw.Data) != want[got] {
			t.Fatalf("record %d: %d bytes, want %d", got, len(raw.Data), len(want[min(got, len(want)-1)]))
		}
		if raw.Pos.Line != wantLine[want[got]] {
			t.Errorf("record %d at line %d, want %d", got, raw.Pos.Line, wantLine[want[got]])
		}
		if cap(raw.Data) != len(raw.Data) {
			t.Errorf("record %d: capacity %d beyond its %d bytes (an append would overwrite the next line)", got, cap(raw.Data), len(raw.Data))
		}
		got++
	}
	if got != len(want) {
		t.Fatalf("%d records, want %d", got, len(want))
	}
}
