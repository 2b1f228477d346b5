// Package setting words a library's complaint about one setting. The
// library names the setting once, by its place in tuneline.yaml and by its
// flag; each front end shows the name its user typed: the workspace
// `export.split`, the CLI `--split`.
package setting

import (
	"errors"
	"strings"
)

// Error is a bad value of one setting.
type Error struct {
	Section string // its section in tuneline.yaml (export, ollama, ...)
	Key     string // its key in that section (the Config's yaml tag)
	Flag    string // its flag, without dashes ("" when it has none)
	Value   string // the value as given, quoted as the message wants ("": none shown)
	Problem string // what is wrong, and what is wanted
}

// Error words the setting as its workspace key.
func (e *Error) Error() string { return e.named(e.Section + "." + e.Key) }

func (e *Error) named(n string) string {
	if e.Value != "" {
		n += " " + e.Value
	}
	return n + ": " + e.Problem
}

// worded is an error whose text names its setting as a front end wants.
type worded struct {
	msg string
	err error
}

func (w *worded) Error() string { return w.msg }
func (w *worded) Unwrap() error { return w.err }

// AsFlag words the setting error in err (if any, and not worded yet) as
// the CLI's flag, --flag: the text around it is kept.
func AsFlag(err error) error {
	var w *worded
	var e *Error
	if err == nil || errors.As(err, &w) || !errors.As(err, &e) || e.Flag == "" {
		return err
	}
	return &worded{strings.Replace(err.Error(), e.Error(), e.named("--"+e.Flag), 1), err}
}

// AsKey marks err as worded for the workspace (section.key, the default),
// so that AsFlag leaves it alone.
func AsKey(err error) error {
	if err == nil {
		return nil
	}
	return &worded{err.Error(), err}
}
