package datasets

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// CleanTemp removes the temporary files that crashed atomic writes left
// in dir (".NAME.tmp-PID-*" whose process is gone), recursively.
func CleanTemp(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		i := strings.Index(name, ".tmp-")
		if !strings.HasPrefix(name, ".") || i < 0 {
			return nil
		}
		pidText, _, _ := strings.Cut(name[i+len(".tmp-"):], "-")
		if pid, err := strconv.Atoi(pidText); err == nil && !alive(pid) {
			os.Remove(p)
		}
		return nil
	})
}
