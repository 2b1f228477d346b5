package datasets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/compress/zstd"
)

var parquetExamples = []Example{
	{ID: "ex-1", Messages: []Message{{Role: RoleSystem, Content: "You are Ada."}, {Role: RoleUser, Content: "Why is the sky blue?"},
		{Role: RoleAssistant, Content: "Rayleigh scattering: λ⁻⁴ — shorter waves scatter more. 🌌"}},
		Meta: Meta{Origin: "a.jsonl:1", Format: "openai", Source: "optics.pdf", DocID: "d1", ChunkID: "d1#3", Title: "Optics",
			Section: "2.1", PageStart: 12, PageEnd: 13, Persona: "ada", Model: "llama3.2", Kind: "qa", QuestionType: "why",
			Scores: map[string]float64{"overall": 4.5, "persona": 4}, Extra: map[string]string{"judge_reason": "clear", "lang": "en"}}},
	{ID: "ex-2", Messages: []Message{{Role: RoleUser, Content: "q"}, {Role: RoleAssistant, Content: ""}},
		Meta: Meta{Source: "talk.vtt", TimeStart: 61.5, TimeEnd: 75.25, Speaker: "Feynman"}},
	{ID: "ex-3", Messages: []Message{{Role: RoleUser, Content: strings.Repeat("long text ", 5000)}, {Role: RoleAssistant, Content: "a\nb\tc\x00d"}}},
}

func writeParquet(t testing.TB, exs []Example, opt ParquetOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewParquetWriter(&buf, opt)
	for i := range exs {
		if err := w.Write(&exs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquetRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  ParquetOptions
	}{
		{"snappy", ParquetOptions{}},
		{"zstd, a row group an example", ParquetOptions{Compression: &zstd.Codec{}, RowGroupBytes: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := writeParquet(t, parquetExamples, tc.opt)
			path := filepath.Join(t.TempDir(), "d.parquet")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var got []Example
			for ex, err := range ReadParquet(context.Background(), path) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ex)
			}
			if !reflect.DeepEqual(got, parquetExamples) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, parquetExamples)
			}
		})
	}
}

// Files that are not Parquet, or are damaged, give an error naming the
// file, never a panic (the library panics on some of them).
func TestReadParquetRefuses(t *testing.T) {
	good := writeParquet(t, parquetExamples, ParquetOptions{})
	corrupt := bytes.Clone(good)
	for i := 200; i < len(corrupt)-200; i += 97 {
		corrupt[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"JSON Lines", []byte(`{"messages":[{"role":"user","content":"q"}]}` + "\n")},
		{"truncated", good[:len(good)/2]},
		{"footer only", good[len(good)-64:]},
		{"corrupt pages", corrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var last error
			for _, err := range ReadParquet(context.Background(), path) {
				last = err
			}
			if last == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(last.Error(), path) {
				t.Errorf("error %q does not name the file", last)
			}
		})
	}
}

func FuzzReadParquet(f *testing.F) {
	good := writeParquet(f, parquetExamples[:2], ParquetOptions{})
	f.Add(good)
	f.Add(good[:len(good)-10])
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	// The library allocated the footer length a file claims (here 4 GB)
	// before finding the file too short: the fuzzer's workers ran out of
	// memory until readParquet checked the frame first.
	f.Add([]byte("PAR1\x15\x06\x15<\x15@\x15\xf3\xaf\xd8\xe5PAR1"))
	f.Add([]byte("PAR1\xff\xff\xff\xffPAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, err := range readParquet(context.Background(), bytes.NewReader(data), int64(len(data)), "fuzz.parquet") {
			if err != nil && !strings.HasPrefix(err.Error(), "fuzz.parquet: ") {
				t.Fatalf("error without the file's name: %v", err)
			}
		}
	})
}
