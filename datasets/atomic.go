package datasets

import (
	"io/fs"

	"github.com/tuneline/tuneline/internal/atomicfile"
)

// Atomic files live in internal/atomicfile, where packages below datasets
// (llm's cache) use them too; these names stay for the stages.

// AtomicFile is a file that appears at its path only when committed.
type AtomicFile = atomicfile.File

// CreateAtomic starts writing path (its directory is created if needed).
func CreateAtomic(path string) (*AtomicFile, error) { return atomicfile.Create(path) }

// WriteFileAtomic writes data to path atomically.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }

// FileMode is the mode a new file gets: 0666 less the process's umask.
func FileMode() fs.FileMode { return atomicfile.FileMode() }
