package review

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sync"
)

// passages finds source passages by chunk id in a chunks file, by offset
// (built in the background like Index).
type passages struct {
	path string
	mu   sync.RWMutex
	at   map[string][2]int64 // chunk id -> offset, length
}

func newPassages(ctx context.Context, path string) *passages {
	p := &passages{path: path, at: map[string][2]int64{}}
	if path == "" {
		return p
	}
	go p.build(ctx)
	return p
}

func (p *passages) build(ctx context.Context) {
	f, err := os.Open(p.path)
	if err != nil {
		return
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	for n := 0; ; n++ {
		b, err := readLine(br, maxExampleLine)
		size := int64(len(b))
		if err == nil {
			size++
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && len(b) < maxExampleLine {
			var c struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(t, &c) == nil && c.ID != "" {
				p.mu.Lock()
				p.at[c.ID] = [2]int64{off, int64(len(b))}
				p.mu.Unlock()
			}
		}
		off += size
		if err != nil || (n%1024 == 0 && ctx.Err() != nil) {
			return // the end, a read error or a stop: what was found is kept
		}
	}
}

// Passage is one chunk's text and provenance.
type Passage struct {
	Text      string  `json:"text"`
	Source    string  `json:"source,omitempty"`
	Section   string  `json:"section,omitempty"`
	PageStart int     `json:"page_start,omitempty"`
	PageEnd   int     `json:"page_end,omitempty"`
	TimeStart float64 `json:"time_start,omitempty"`
	TimeEnd   float64 `json:"time_end,omitempty"`
}

func (p *passages) get(id string) *Passage {
	p.mu.RLock()
	loc, ok := p.at[id]
	p.mu.RUnlock()
	if !ok {
		return nil
	}
	f, err := os.Open(p.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, loc[1])
	if _, err := f.ReadAt(b, loc[0]); err != nil {
		return nil
	}
	var out Passage
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return &out
}
