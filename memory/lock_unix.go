//go:build unix

package memory

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockShared takes a shared flock on f (released when f is closed), as
// bbolt's readers do, waiting at most timeout for a writer.
func lockShared(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s's lock: %w", f.Name(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
