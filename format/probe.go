package format

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/tuneline/tuneline/datasets"
)

// Export kinds: chat examples (supervised fine-tuning) or preference pairs
// (DPO and its kin). One export holds one kind: trainers read a file of one.
const (
	KindAuto       = "auto"
	KindChat       = "chat"
	KindPreference = "preference"
)

// Kinds lists the values of --kind.
var Kinds = []string{KindAuto, KindChat, KindPreference}

// Probe is what a quick look at the inputs found.
type Probe struct {
	Pairs bool // some record is a preference pair
	Tools bool // some record declares tools or calls them
	// pairTools: a preference pair declares tools or calls them (seen
	// while exporting; the probe's keys alone do not choose Parquet's
	// pair columns with tools, as an empty "tools" list is common).
	pairTools bool
}

// The keys that only preference pairs and tool-calling records have. A
// key is a quoted name: inside a JSON string a quote is escaped, so the
// bytes `"rejected"` appear only as a key or as a whole string value (which
// at worst makes the probe say yes to an input that has none).
var (
	pairKeys = [][]byte{[]byte(`"rejected"`), []byte(`"non_preferred_output"`)}
	toolKeys = [][]byte{[]byte(`"tool_calls"`), []byte(`"tools"`), []byte(`"function_call"`), []byte(`"observation"`)}
)

// ProbeFiles reads the first limit bytes of each input (all of it when
// limit is 0) for the keys of preference pairs and tool calls: the
// export's kind and its Parquet columns are chosen before the first row is
// written. Standard input cannot be read twice and is not probed.
func ProbeFiles(ctx context.Context, files []string, limit int64) (Probe, error) {
	var p Probe
	const overlap = 32
	buf := make([]byte, 1<<20+overlap)
	for _, f := range files {
		if f == "-" {
			continue
		}
		r, err := datasets.Open(f)
		if err != nil {
			return p, err
		}
		keep, read := 0, int64(0)
		for limit <= 0 || read < limit {
			if err := ctx.Err(); err != nil {
				r.Close()
				return p, err
			}
			n, err := io.ReadFull(r, buf[keep:])
			read += int64(n)
			chunk := buf[:keep+n]
			p.Pairs = p.Pairs || containsAny(chunk, pairKeys)
			p.Tools = p.Tools || containsAny(chunk, toolKeys)
			if p.Pairs && p.Tools {
				r.Close()
				return p, nil
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				r.Close()
				return p, fmt.Errorf("read %s: %w", f, err)
			}
			keep = copy(buf, chunk[len(chunk)-overlap:])
		}
		r.Close()
	}
	return p, nil
}

func containsAny(b []byte, keys [][]byte) bool {
	for _, k := range keys {
		if bytes.Contains(b, k) {
			return true
		}
	}
	return false
}
