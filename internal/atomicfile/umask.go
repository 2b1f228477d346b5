package atomicfile

import (
	"io/fs"
	"sync"
	"syscall"
)

var umaskOnce = sync.OnceValue(func() fs.FileMode {
	// The umask can only be read by setting it; this is done once, before
	// any file of this package is written, and set straight back. Another
	// goroutine creating a file in those nanoseconds would create it 0666
	// less nothing; tuneline reads it at its first atomic write.
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return fs.FileMode(m)
})

// FileMode is the mode a new file gets: 0666 less the process's umask.
func FileMode() fs.FileMode { return 0o666 &^ umaskOnce() }

// DirMode is the mode a new folder gets: 0777 less the process's umask.
func DirMode() fs.FileMode { return 0o777 &^ umaskOnce() }
