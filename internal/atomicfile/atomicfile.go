// Package atomicfile writes files that appear at their path only whole:
// a temporary file in the same folder, synced and renamed into place.
package atomicfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// File is a file that appears at its path only when committed: it is
// written to a temporary file in the same directory and renamed into place,
// so that a crash never leaves a half-written file behind.
type File struct {
	*bufio.Writer
	f      *os.File
	path   string
	n      int64
	done   bool
	direct bool // path is a device or pipe (/dev/null, /dev/stdout): written in place
}

// Create starts writing path (its directory is created if needed).
func Create(path string) (*File, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		// Renaming over a device would replace it with a regular file.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		a := &File{f: f, path: path, direct: true}
		a.Writer = bufio.NewWriterSize(countWriter{a}, 1<<20)
		return a, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// The temp name carries the pid, so that CleanTemp can tell a crashed
	// write's leftover from a live one.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	a := &File{f: f, path: path}
	a.Writer = bufio.NewWriterSize(countWriter{a}, 1<<20)
	return a, nil
}

type countWriter struct{ a *File }

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.a.f.Write(p)
	c.a.n += int64(n)
	return n, err
}

// Path is where the file will appear.
func (a *File) Path() string { return a.path }

// Size is the number of bytes written so far (buffered ones included).
func (a *File) Size() int64 { return a.n + int64(a.Buffered()) }

// Commit flushes, syncs and renames the file into place.
func (a *File) Commit() error { return a.CommitAs(a.path) }

// CommitAs is Commit to another final path (for shards whose names depend
// on how many there are).
func (a *File) CommitAs(path string) error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.Flush()
	if a.direct {
		if cerr := a.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp made the file 0600; it gets the mode a plain create
		// would have given it (0666 less the umask: 0644 under umask 022),
		// so that other users, containers and trainers can read the data.
		err = os.Chmod(a.f.Name(), FileMode())
	}
	if err == nil {
		err = os.Rename(a.f.Name(), path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Abort removes the temporary file. It is a no-op after Commit.
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	if !a.direct {
		os.Remove(a.f.Name())
	}
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	a, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return a.Commit()
}
