// Package review is the human pass over a dataset: a local web page where a
// person accepts, rejects and edits examples one at a time, the decisions
// file it appends to, and Apply, which a build uses to honour the decisions.
package review

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tuneline/tuneline/datasets"
)

// The decisions a reviewer makes. Unreviewed takes back an earlier decision
// (what undo writes when there was none before).
const (
	Accept     = "accept"
	Reject     = "reject"
	Edit       = "edit"
	Unreviewed = "unreviewed"
)

// Decision is one line of a decisions file. The last line of an id wins.
type Decision struct {
	ID       string `json:"id"`
	Decision string `json:"decision"`
	// Messages is the whole edited conversation (Edit only); Rejected a
	// preference pair's rejected reply after the edit (a swap exchanges
	// the chosen and the rejected reply).
	Messages []datasets.Message `json:"messages,omitempty"`
	Rejected []datasets.Message `json:"rejected,omitempty"`
	// Base is the content id of the example as it was reviewed: when the
	// example changes upstream its decision no longer holds.
	Base string    `json:"base,omitempty"`
	Time time.Time `json:"time"`
}

// States of an example against the decisions, as Apply and the page count
// them.
const (
	StateAccepted   = "accepted"
	StateRejected   = "rejected"
	StateEdited     = "edited"
	StateUnreviewed = "unreviewed"
	// StateChanged is an example decided on whose content changed since:
	// it needs review again, and builds treat it as unreviewed.
	StateChanged = "changed"
)

// PathFor is the decisions file of an examples file: FILE.review.jsonl for
// FILE.jsonl.
func PathFor(examples string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(examples, ".gz"), ".jsonl")
	return base + ".review.jsonl"
}

// maxDecisionLine bounds one line of a decisions file (an edit holds a
// whole conversation).
const maxDecisionLine = 64 << 20

// Set is the decisions of one file, the last per id, and the file they are
// appended to.
type Set struct {
	path string
	mu   sync.RWMutex
	last map[string]Decision
	// Skipped counts lines that could not be read (a line cut short by a
	// crash, or edited by hand); Warnings names the first few.
	Skipped  int
	Warnings []string
}

// Load reads a decisions file; a missing file is an empty set. Bad lines are
// skipped and named in Warnings (file:line): one bad line never loses the
// others.
func Load(path string) (*Set, error) {
	s := &Set{path: path, last: map[string]Decision{}}
	// A too-long line is read to its end and skipped: a device would be
	// read for ever (--review /dev/zero), a named pipe block the open.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (a device, pipe or folder): give the decisions file tuneline review wrote", path)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := s.read(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *Set) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line := 0
	for {
		b, err := readLine(br, maxDecisionLine)
		if len(b) > 0 || err == nil {
			line++
			if t := bytes.TrimSpace(b); len(t) > 0 {
				if perr := s.add(t); perr != nil {
					s.Skipped++
					if len(s.Warnings) < 5 {
						s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: %v (line skipped)", s.path, line, perr))
					}
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line+1, err)
		}
	}
}

// readLine reads one line without its newline; a line longer than max is
// read to its end and returned cut (add then refuses it).
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		b, err := br.ReadSlice('\n')
		if len(out)+len(b) <= max {
			out = append(out, b...)
		} else if out == nil {
			out = []byte("{") // too long: an unreadable line
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(out, []byte("\n")), err
	}
}

func (s *Set) add(b []byte) error {
	var d Decision
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	if err := d.check(); err != nil {
		return err
	}
	s.last[d.ID] = d
	return nil
}

func (d *Decision) check() error {
	if d.ID == "" {
		return errors.New("no id")
	}
	switch d.Decision {
	case Accept, Reject, Unreviewed:
	case Edit:
		if len(d.Messages) == 0 {
			return errors.New("an edit without messages")
		}
	default:
		return fmt.Errorf("decision %q: want accept, reject, edit or unreviewed", d.Decision)
	}
	return nil
}

// Path is the decisions file.
func (s *Set) Path() string { return s.path }

// Len is the number of ids with a decision.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.last)
}

// Get returns the last decision of an id.
func (s *Set) Get(id string) (Decision, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.last[id]
	if ok && d.Decision == Unreviewed {
		return Decision{}, false
	}
	return d, ok
}

// Append writes a decision at the end of the file, as one write under an
// exclusive lock and synced to disk before it returns, so that two tabs or
// two processes never interleave and a crash loses at most the decision
// being written (a line it cut short is skipped when read).
func (s *Set) Append(d Decision) error {
	if d.Time.IsZero() {
		d.Time = time.Now().UTC()
	}
	if err := d.check(); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", s.path, err)
	}
	// A line a crash cut short would swallow this one: start a new line.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		var last [1]byte
		if r, err := os.Open(s.path); err == nil {
			if _, err := r.ReadAt(last[:], st.Size()-1); err == nil && last[0] != '\n' {
				b = append([]byte{'\n'}, b...)
			}
			r.Close()
		}
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.last[d.ID] = d
	s.mu.Unlock()
	return nil
}

// Base is the content id a decision records: the example's own content,
// whatever its id.
func Base(ex *datasets.Example) string { return datasets.ContentID(ex.KeyMessages()) }

// ExampleID is the id decisions are keyed by: the example's id, else its
// content id (as export gives it).
func ExampleID(ex *datasets.Example) string {
	if strings.TrimSpace(ex.ID) != "" {
		return ex.ID
	}
	return Base(ex)
}

// State is the example's state against the decisions, and its decision.
func (s *Set) State(ex *datasets.Example) (string, Decision) {
	return s.state(ExampleID(ex), func() string { return Base(ex) })
}

func (s *Set) state(id string, base func() string) (string, Decision) {
	d, ok := s.Get(id)
	if !ok {
		return StateUnreviewed, Decision{}
	}
	if d.Base != "" && d.Base != base() {
		return StateChanged, d
	}
	switch d.Decision {
	case Accept:
		return StateAccepted, d
	case Reject:
		return StateRejected, d
	case Edit:
		return StateEdited, d
	}
	return StateUnreviewed, d
}

// Apply applies the decision on an example, for a build: an edit replaces
// its messages (and a pair's rejected reply), keeping its id. It returns the
// state (StateRejected: leave the example out). A decision made on content
// that changed since is not applied (StateChanged). Apply is safe for
// concurrent use and never keeps ex.
func (s *Set) Apply(ex *datasets.Example) string {
	if s == nil || s.Len() == 0 {
		return ""
	}
	id := ExampleID(ex)
	st, d := s.State(ex)
	if st == StateEdited {
		ex.ID = id
		ex.Messages = slices.Clone(d.Messages)
		if len(d.Rejected) > 0 {
			ex.Rejected = slices.Clone(d.Rejected)
		}
	}
	return st
}
