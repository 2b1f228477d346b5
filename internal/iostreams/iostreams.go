// Package iostreams is the one place commands get their input and output
// from: stdout for data, stderr for progress and logs, and whether each is a
// terminal (colour and live progress only then).
package iostreams

import (
	"bytes"
	"io"
	"os"
)

// IOStreams holds a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdoutTTY bool
	StderrTTY bool
	// Quiet turns progress off.
	Quiet bool
}

func isTTY(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		StdoutTTY: isTTY(os.Stdout), StderrTTY: isTTY(os.Stderr)}
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Color tells whether stdout may carry ANSI colours.
func (s *IOStreams) Color() bool {
	return s.StdoutTTY && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}
