package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"unicode/utf8"
)

// Raw is one undecoded record of an input file and where it starts.
type Raw struct {
	Pos  Pos
	Data []byte
	// refused is set for a record that could not be read (TooLongError.Refused).
	refused *TooLongError
}

// Record is one record read and converted to the canonical schema. Err is set
// when the record was refused; Example is then empty.
type Record struct {
	Pos     Pos
	Example Example
	Format  string
	Err     *RowError
	// BadUTF8 is set when the record's bytes are not valid UTF-8 (the JSON
	// decoder would silently replace them, so it is checked on the raw bytes).
	BadUTF8 bool
}

// CountLines counts the lines of a file that are not blank (records of a
// JSON Lines file; path "-" or ending in .gz as for Open).
func CountLines(path string) (int, error) {
	f, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, line := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, MaxRecord+2)
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return n, fmt.Errorf("%s:%d: %w", path, line+1, ErrRecordTooLong)
	}
	return n, sc.Err()
}

// Decode parses a raw record into a Record.
// The example's strings may point into r.Data, which must not change
// afterwards.
func (r Raw) Decode() Record {
	if r.refused != nil {
		return Record{Pos: r.Pos, Err: rowErr(ErrTooLong, "%v", ErrRecordTooLong)}
	}
	ex, format, err := parseAny(r.Data, true)
	rec := Record{Pos: r.Pos, Example: ex, Format: format, Err: err, BadUTF8: !utf8.Valid(r.Data)}
	if err == nil {
		ex := &rec.Example
		if ex.Meta.Origin == "" {
			rec.Example.Meta.Origin = r.Pos.String()
		}
	}
	return rec
}

// Open opens a dataset file for reading; "-" is standard input.
func Open(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	return f, nil
}

// ReadFile streams the records of the file at path (JSONL, or a JSON array).
// Row-level problems come back as Record.Err and reading goes on; the error of
// the sequence is set only when the file itself cannot be read further.
func ReadFile(ctx context.Context, path string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for raw, err := range RawFile(ctx, path) {
			if err != nil {
				yield(Record{}, err)
				return
			}
			if !yield(raw.Decode(), nil) {
				return
			}
		}
	}
}

// ReadFiles is ReadFile over several files, one after the other.
func ReadFiles(ctx context.Context, paths []string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, p := range paths {
			for rec, err := range ReadFile(ctx, p) {
				if !yield(rec, err) || err != nil {
					return
				}
			}
		}
	}
}

// RawFile streams the undecoded records of the file at path.
func RawFile(ctx context.Context, path string) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		f, err := Open(path)
		if err != nil {
			yield(Raw{}, err)
			return
		}
		defer f.Close()
		name := path
		if path == "-" {
			name = "<stdin>"
		}
		for raw, err := range RawRecords(ctx, f, name) {
			if !yield(raw, err) || err != nil && !errors.Is(err, ErrRecordTooLong) {
				return
			}
		}
	}
}

// MaxRecord is the one limit of a record's size, everywhere a record is
// read (a line of JSON Lines, an element of a JSON array, a pretty-printed
// object, a line of a chunks file or of an interaction log): 8 MiB, some
// 2 million tokens, 30 times the longest context a trainer takes. A record
// is held a few times over while it is parsed, and a one-word record is
// counted at about 1.5 µs a byte (a 60 MB word took over 120 s in
// validate), so the limit is what keeps one bad line from taking
// gigabytes or minutes.
const MaxRecord = 8 << 20

// ErrRecordTooLong is wrapped by the error of a record over MaxRecord.
var ErrRecordTooLong = fmt.Errorf("record longer than %d MiB", MaxRecord>>20)

// TooLongError is the error of a record over MaxRecord, at Pos. In JSON
// Lines the records after it are read when the caller goes on (the
// sequences of RawRecords and RawFile go on after it; in a JSON array or a
// pretty-printed file they end there).
type TooLongError struct{ Pos Pos }

func (e *TooLongError) Error() string { return e.Pos.String() + ": " + ErrRecordTooLong.Error() }
func (e *TooLongError) Unwrap() error { return ErrRecordTooLong }

func tooLong(name string, line int) error { return &TooLongError{Pos{File: name, Line: line}} }

// Refused is the raw record of a record that could not be read: Decode
// gives a record with the error, category record_too_long, and no example.
func (e *TooLongError) Refused() Raw { return Raw{Pos: e.Pos, refused: e} }

// ReadLine reads one line of br without its line end, up to max bytes: a
// longer line is an ErrRecordTooLong error, found before it is held, and
// is read to its end (not held) so that the next call reads the next
// line. At the end of the input it returns what is left, then io.EOF.
func ReadLine(br *bufio.Reader, max int) ([]byte, error) {
	line, err := readLineRaw(br, max)
	if errors.Is(err, ErrRecordTooLong) {
		for !bytes.HasSuffix(line, []byte{'\n'}) {
			if line, err = br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
				break
			}
		}
		return nil, ErrRecordTooLong
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// RawRecords splits r into records. A file whose first non-blank byte is '['
// is read as a JSON array (streamed element by element); anything else as
// JSON Lines. Blank lines are skipped.
func RawRecords(ctx context.Context, r io.Reader, name string) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		br := bufio.NewReaderSize(r, 1<<20)
		first, err := peekFirst(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				yield(Raw{}, fmt.Errorf("%s: %w", name, err))
			}
			return
		}
		switch {
		case first == '[':
			readArray(ctx, br, name, yield)
		case first == '{' && prettyObject(br):
			readValues(ctx, br, name, yield)
		default:
			// Lines are read straight into their own buffers: what br has
			// buffered first, then the rest of r without br's copy.
			buffered, _ := br.Peek(br.Buffered())
			readLines(ctx, io.MultiReader(bytes.NewReader(buffered), r), name, yield)
		}
	}
}

// peekFirst returns the first byte that is not white space or a BOM.
func peekFirst(br *bufio.Reader) (byte, error) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			if len(b) == 0 || errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		c := b[i-1]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
		if i >= br.Size() {
			br.Discard(i)
			i = 0
		}
	}
}

// readLines yields the non-blank lines of br. Lines are cut out of large
// buffers that are never reused, so a Raw's Data needs no copy of its own
// (only a line that straddles two buffers is copied, to the next one).
func readLines(ctx context.Context, br io.Reader, name string, yield func(Raw, error) bool) {
	const chunkSize = 1 << 20
	line := 0
	emit := func(b []byte) bool {
		line++
		if line%1024 == 0 && ctx.Err() != nil {
			yield(Raw{}, ctx.Err())
			return false
		}
		t := bytes.TrimSpace(b)
		if len(t) == 0 {
			return true
		}
		if len(t) > MaxRecord { // the next line is read if the caller goes on
			return yield(Raw{}, tooLong(name, line))
		}
		return yield(Raw{Pos: Pos{File: name, Line: line}, Data: t[:len(t):len(t)]}, nil)
	}
	var carry []byte
	for {
		buf := make([]byte, max(chunkSize, min(2*len(carry), MaxRecord+chunkSize)))
		n0 := copy(buf, carry)
		n, err := io.ReadFull(br, buf[n0:])
		data := buf[:n0+n]
		start := 0
		for {
			i := bytes.IndexByte(data[start:], '\n')
			if i < 0 {
				break
			}
			if !emit(data[start : start+i+1]) {
				return
			}
			start += i + 1
		}
		carry = data[start:]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				if len(carry) > 0 {
					emit(carry)
				}
				return
			}
			yield(Raw{}, fmt.Errorf("%s:%d: %w", name, line+1, err))
			return
		}
		if len(carry) > MaxRecord {
			line++
			if !yield(Raw{}, tooLong(name, line)) {
				return
			}
			// The caller goes on: the rest of the line is passed over, up
			// to maxSkip (a device or stream may have no line end).
			if carry, err = skipLine(br, maxSkip); err != nil {
				if !errors.Is(err, io.EOF) {
					yield(Raw{}, fmt.Errorf("%s:%d: %w", name, line, err))
				}
				return
			}
		}
	}
}

// maxSkip is how far past a record over the limit a line end is looked
// for before the rest of the input is given up (/dev/zero has none).
var maxSkip int64 = 1 << 30

// skipLine reads r past the next newline and returns what it read after
// it; after max bytes without one it gives up.
func skipLine(r io.Reader, max int64) ([]byte, error) {
	buf := make([]byte, 64<<10)
	for read := int64(0); ; {
		n, err := r.Read(buf)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return bytes.Clone(buf[i+1 : n]), nil
		}
		if read += int64(n); read > max {
			return nil, fmt.Errorf("no line end within %d MiB after a record over the limit: the rest is not read", max>>20)
		}
		if err != nil {
			return nil, err
		}
	}
}

// prettyObject tells whether the input starts with a JSON object spread over
// several lines (a pretty-printed file rather than JSON Lines): its first
// line opens a container and does not close it.
func prettyObject(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	switch b[len(b)-1] {
	case '{', '[', ',', ':':
		return true
	}
	return false
}

// readValues reads a sequence of JSON values (one pretty-printed object, or
// several one after another).
func readValues(ctx context.Context, br *bufio.Reader, name string, yield func(Raw, error) bool) {
	readJSON(ctx, br, name, false, yield)
}

func readArray(ctx context.Context, br *bufio.Reader, name string, yield func(Raw, error) bool) {
	readJSON(ctx, br, name, true, yield)
}

func readJSON(ctx context.Context, br *bufio.Reader, name string, array bool, yield func(Raw, error) bool) {
	lt := &lineTracker{r: br, line: 1}
	dec := json.NewDecoder(lt)
	if array {
		if _, err := dec.Token(); err != nil { // '['
			yield(Raw{}, fmt.Errorf("%s:1: %w", name, err))
			return
		}
	}
	for dec.More() {
		if ctx.Err() != nil {
			yield(Raw{}, ctx.Err())
			return
		}
		lt.mark = dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			line := lt.lineAt(dec.InputOffset())
			if errors.Is(err, ErrRecordTooLong) {
				yield(Raw{}, tooLong(name, lt.lineAt(lt.valueAfter(lt.mark))))
				return
			}
			yield(Raw{}, fmt.Errorf("%s:%d: JSON cannot be read past this point: %w", name, line, err))
			return
		}
		start := dec.InputOffset() - int64(len(raw))
		if !yield(Raw{Pos: Pos{File: name, Line: lt.lineAt(start)}, Data: raw}, nil) {
			return
		}
	}
	if !array {
		return
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		yield(Raw{}, fmt.Errorf("%s:%d: %w", name, lt.lineAt(dec.InputOffset()), err))
	}
}

// lineTracker remembers the bytes a decoder has read but not yet passed, so
// that an offset can be turned into a line number without keeping the file.
type lineTracker struct {
	r      io.Reader
	mark   int64 // where the record being decoded starts: at most MaxRecord is read past it
	chunks []trackedChunk
	off    int64 // bytes read so far
	line   int   // line number at off
}

type trackedChunk struct {
	start int64
	line  int
	data  []byte
}

func (t *lineTracker) Read(p []byte) (int, error) {
	// The decoder holds a whole value (and this tracker a copy of it):
	// a value longer than MaxRecord ends here, before it is held.
	if t.off-t.mark > MaxRecord+1<<20 {
		return 0, ErrRecordTooLong
	}
	n, err := t.r.Read(p)
	if n > 0 {
		t.chunks = append(t.chunks, trackedChunk{start: t.off, line: t.line, data: bytes.Clone(p[:n])})
		t.off += int64(n)
		t.line += bytes.Count(p[:n], []byte{'\n'})
	}
	return n, err
}

// valueAfter is the offset of the first byte at or after off that is not
// white space or a comma: where the next value starts.
func (t *lineTracker) valueAfter(off int64) int64 {
	for _, c := range t.chunks {
		for i := max(0, off-c.start); i < int64(len(c.data)); i++ {
			if b := c.data[i]; b != ' ' && b != '\t' && b != '\r' && b != '\n' && b != ',' {
				return c.start + i
			}
		}
	}
	return off
}

// lineAt returns the 1-based line of byte offset off. Offsets must not go
// backwards between calls: chunks before off are forgotten.
func (t *lineTracker) lineAt(off int64) int {
	for len(t.chunks) > 1 && t.chunks[1].start <= off {
		t.chunks = t.chunks[1:]
	}
	if len(t.chunks) == 0 {
		return t.line
	}
	c := t.chunks[0]
	k := min(int(off-c.start), len(c.data))
	if k < 0 {
		k = 0
	}
	return c.line + bytes.Count(c.data[:k], []byte{'\n'})
}
