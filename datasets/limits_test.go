package datasets

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/memlimit"
)

// fill is n bytes of b, made as they are read.
type fill struct {
	b byte
	n int64
}

func (f *fill) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.n)]
	for i := range p {
		p[i] = f.b
	}
	f.n -= int64(len(p))
	return len(p), nil
}

// record is a chat record of content n bytes long, around it what the
// shape needs.
func record(before string, n int64, after string) io.Reader {
	return io.MultiReader(strings.NewReader(before+`{"messages":[{"role":"user","content":"`), &fill{'a', n},
		strings.NewReader(`"},{"role":"assistant","content":"b"}]}`+after))
}

// One limit for a record, in every shape, found before the record is held:
// a JSON Lines line past it (272 MB passed: only the carry-over between
// buffers was checked), an element of a JSON array and a pretty-printed
// object (no limit: 600 MB took 2.8 GB), and a chunks file of /dev/zero
// (read whole). Each ends with an error naming the file and line, in a
// child limited to 3 GiB of address space, having allocated less than
// 1 GiB in all (issue 29, case 3).
func TestRecordLimit(t *testing.T) {
	if !memlimit.Child(t, 3<<30) {
		return
	}
	for _, tt := range []struct {
		name string
		in   io.Reader
		line string
	}{
		{"a 272 MB line", record("{\"messages\":[]}\n", 272e6, "\n{}\n"), "in:2:"},
		{"a 100 MB line", record("", 100e6, "\n"), "in:1:"},
		{"a 600 MB array element", record("[\n{\"messages\":[]},\n", 600e6, "]"), "in:3:"},
		{"a 600 MB pretty-printed object", io.MultiReader(strings.NewReader("{\n  \"messages\": [\n"), record("", 600e6, "]}")), "in:1:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			debug.FreeOSMemory()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			defer func() {
				runtime.ReadMemStats(&after)
				if a := after.TotalAlloc - before.TotalAlloc; a > 1<<30 {
					t.Errorf("allocated %d MiB", a>>20)
				}
			}()
			var err error
			for _, err = range RawRecords(context.Background(), tt.in, "in") {
				if err != nil {
					break
				}
			}
			if !errors.Is(err, ErrRecordTooLong) || !strings.HasPrefix(err.Error(), tt.line) {
				t.Errorf("error %v, want %s record longer than 8 MiB", err, tt.line)
			}
		})
	}
	var err error
	for _, err = range Chunks("/dev/zero") {
		if err != nil {
			break
		}
	}
	if !errors.Is(err, ErrRecordTooLong) || !strings.HasPrefix(err.Error(), "/dev/zero:1:") {
		t.Errorf("chunks of /dev/zero: %v", err)
	}
}

// ReadLine: lines up to the limit whole, one past it refused, the last
// line without its newline.
func TestReadLine(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("abc\r\nabcdefg\nab"), 16)
	for _, want := range []string{"abc", "!", "ab", "EOF"} {
		got, err := ReadLine(br, 3)
		switch {
		case errors.Is(err, ErrRecordTooLong):
			got = []byte("!")
		case err == io.EOF:
			got = []byte("EOF")
		}
		if string(got) != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// Scores out of any judge's range are refused with the field named: two of
// 1.7e308 summed to +Inf, and stats --json and the report could not be
// written (issue 29, case 7).
func TestScoresBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curated.jsonl")
	line := func(score string) string {
		return `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"meta":{"scores":{"overall":` + score + `}}}` + "\n"
	}
	os.WriteFile(path, []byte(line("1.7e308")+line("1.7e308")+line("-3")+line("4")+line("4.5")), 0o644)
	s, err := StatsFiles(context.Background(), []string{path}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Invalid != 3 || s.Examples != 2 || s.ScoreMeans["overall"] != 4.25 {
		t.Errorf("%d invalid, %d examples, mean %v; want 3, 2, 4.25", s.Invalid, s.Examples, s.ScoreMeans["overall"])
	}
	if _, err := json.Marshal(s); err != nil {
		t.Errorf("stats cannot be written as JSON: %v", err)
	}
	_, _, rerr := ParseRecord([]byte(line("1.7e308")))
	if rerr == nil || !strings.Contains(rerr.Reason, "meta.scores.overall is 1.7e+308") {
		t.Errorf("%v, want the score named", rerr)
	}
}

// A JSON Lines line over the limit is an error the caller may go on from:
// the lines after it are read (issue 29, case 3; validate reported nothing
// of the files beside one, found by bench/hostile.sh). Both ways a line is
// found too long: whole within a buffer (9 MB) and across buffers (20 MB).
func TestRecordTooLongGoesOn(t *testing.T) {
	good := `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}` + "\n"
	for _, n := range []int64{9e6, 20e6} {
		var lines []int
		var tooLong []int
		for raw, err := range RawRecords(context.Background(), record(good, n, "\n"+good), "in") {
			var tl *TooLongError
			if errors.As(err, &tl) {
				tooLong = append(tooLong, tl.Pos.Line)
				if rec := tl.Refused().Decode(); rec.Err == nil || rec.Err.Category != ErrTooLong || rec.Pos.Line != 2 {
					t.Errorf("refused record %+v", rec)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, raw.Pos.Line)
		}
		if len(tooLong) != 1 || tooLong[0] != 2 || len(lines) != 2 || lines[1] != 3 {
			t.Errorf("%d bytes: too long at %v, read %v; want 2, and 1 and 3", n, tooLong, lines)
		}
	}
}

// Passing over a line past the limit ends where the input has no line end
// (/dev/zero: validate /dev/zero read for ever once the lines after a long
// one were read; found by bench/hostile.sh).
func TestRecordTooLongNoLineEnd(t *testing.T) {
	defer func(old int64) { maxSkip = old }(maxSkip)
	maxSkip = 64 << 20
	var errs []error
	for _, err := range RawRecords(context.Background(), &fill{'a', 1 << 40}, "in") {
		if err == nil {
			t.Fatal("a record read from an input of one endless line")
		}
		errs = append(errs, err)
		if len(errs) > 2 {
			break
		}
	}
	if len(errs) != 2 || !errors.Is(errs[0], ErrRecordTooLong) || !strings.Contains(errs[1].Error(), "no line end within 64 MiB") {
		t.Errorf("errors %v; want the record too long, then no line end", errs)
	}
}
