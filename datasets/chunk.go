package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
)

// Chunk is a piece of a source document sized for a prompt, with its
// provenance: the lines `tuneline ingest` writes and synth, curate,
// lineage and the report read.
type Chunk struct {
	ID     string `json:"id"`
	DocID  string `json:"doc_id"`
	Seq    int    `json:"seq"`
	Source string `json:"source"`
	// SourceRaw is the source's name byte for byte when it is not UTF-8:
	// JSON strings are UTF-8, so Source has U+FFFD where such bytes were.
	SourceRaw []byte  `json:"source_raw,omitempty"`
	Kind      string  `json:"kind"`
	Title     string  `json:"title,omitempty"`
	Section   string  `json:"section,omitempty"`
	PageStart int     `json:"page_start,omitempty"`
	PageEnd   int     `json:"page_end,omitempty"`
	TimeStart float64 `json:"time_start,omitempty"`
	TimeEnd   float64 `json:"time_end,omitempty"`
	Speaker   string  `json:"speaker,omitempty"`
	Tokens    int     `json:"tokens"`
	Text      string  `json:"text"`
}

// ChunkAt is a chunk with where it stands in its file.
type ChunkAt struct {
	Chunk
	Line   int   // 1-based line number
	Offset int64 // byte offset of the line
	Size   int64 // bytes of the line, its newline included
}

// Chunks reads a chunks file (gzip too, `-` for stdin), one chunk a
// non-blank line, in order. The one rule for a bad line: a line that is not
// a chunk (not JSON, or without id or text) ends the stream with an error
// naming file:line; nothing is skipped silently.
func Chunks(path string) iter.Seq2[ChunkAt, error] {
	return func(yield func(ChunkAt, error) bool) {
		f, err := Open(path)
		if err != nil {
			yield(ChunkAt{}, err)
			return
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		var pos int64
		for line := 1; ; line++ {
			b, rerr := readLineRaw(br, MaxRecord)
			if errors.Is(rerr, ErrRecordTooLong) {
				yield(ChunkAt{}, fmt.Errorf("%s:%d: %w", path, line, rerr))
				return
			}
			at := ChunkAt{Line: line, Offset: pos, Size: int64(len(b))}
			pos += int64(len(b))
			if len(bytes.TrimSpace(b)) > 0 {
				if err := json.Unmarshal(b, &at.Chunk); err != nil {
					yield(at, fmt.Errorf("%s:%d: not a chunk (want the JSON lines tuneline ingest writes): %v", path, line, err))
					return
				}
				if at.ID == "" || at.Text == "" {
					yield(at, fmt.Errorf("%s:%d: not a chunk: it has no id or no text", path, line))
					return
				}
				if !yield(at, nil) {
					return
				}
			}
			if rerr == io.EOF {
				return
			}
			if rerr != nil {
				yield(ChunkAt{}, fmt.Errorf("%s:%d: %w", path, line, rerr))
				return
			}
		}
	}
}

// readLineRaw is bufio.Reader.ReadBytes('\n') up to max bytes: a longer
// line is ErrRecordTooLong, found before it is held; the part of it last
// read is returned with the error.
func readLineRaw(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max+2 {
			return frag, ErrRecordTooLong
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}
