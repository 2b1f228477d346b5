//go:build !unix

package memory

import (
	"os"
	"time"
)

// lockShared: bbolt locks with LockFileEx here; the check reads unlocked.
func lockShared(*os.File, time.Duration) error { return nil }
