package progress

import (
	"io"
	"sync"
	"time"
)

// Stages shows the progress of work that runs in named stages, one after
// another (a pipeline), with log lines between them: each stage gets its
// own bar, and a log line first shows where the running bar is (Done), so
// that a stage's last progress line comes before its log of being done,
// never after the next stage's lines. Its methods are safe for concurrent
// use.
type Stages struct {
	mu    sync.Mutex
	w     io.Writer
	opt   Options
	label func(stage string) string
	bar   *Bar
	stage string
	note  func() string
}

// SetNote adds note's words to every stage's lines (see Bar.SetNote).
func (s *Stages) SetNote(note func() string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.note = note
	if s.bar != nil {
		s.bar.SetNote(note)
	}
}

// NewStages shows stage progress on w. o's Label and Total are
// ignored; label names a stage's bar (nil: the stage's name).
func NewStages(w io.Writer, o Options, label func(stage string) string) *Stages {
	if label == nil {
		label = func(s string) string { return s }
	}
	return &Stages{w: w, opt: o, label: label}
}

// Set records the items done in stage (total 0 when unknown).
func (s *Stages) Set(stage string, done, total int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar == nil || s.stage != stage {
		s.finish()
		o := s.opt
		o.Label = s.label(stage)
		s.bar, s.stage = New(s.w, o), stage
		s.bar.SetNote(s.note)
	}
	s.bar.SetTotal(total)
	s.bar.Set(done)
}

// Heartbeat beats the running bar every interval until stop is closed, so
// that a log shows a line at least every LogEvery while a stage works, even
// when an item takes minutes (a model request on a slow machine).
func (s *Stages) Heartbeat(interval time.Duration, stop <-chan struct{}) {
	every(interval, stop, s.Beat)
}

// Beat beats the running bar (see Bar.Beat).
func (s *Stages) Beat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar != nil {
		s.bar.Beat()
	}
}

// Done finishes the running bar.
func (s *Stages) Done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish()
}

func (s *Stages) finish() {
	if s.bar != nil {
		s.bar.Done()
		s.bar = nil
	}
}

// Log is a writer for log lines: each write first brings the running
// bar's line up to date and ends it, then goes to the same output.
func (s *Stages) Log() io.Writer { return stagesLog{s} }

type stagesLog struct{ s *Stages }

func (l stagesLog) Write(p []byte) (int, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.bar != nil {
		l.s.bar.Done()
	}
	return l.s.w.Write(p)
}
