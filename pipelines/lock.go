package pipelines

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// lockWorkspace takes the workspace's lock (build/.lock) for this process,
// or says at once which process holds it. The lock is released when the
// returned function runs or the process ends, however it ends.
func lockWorkspace(build string) (func(), error) {
	if err := os.MkdirAll(build, 0o755); err != nil {
		return nil, err
	}
	path := Layout{Build: build}.Lock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := strings.TrimSpace(string(b))
		if holder == "" {
			holder = "another process"
		}
		return nil, fmt.Errorf("the workspace is in use by %s; wait for it to finish or stop it (lock: %s)", holder, path)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "tuneline (pid %d, %s) since %s\n", os.Getpid(), strings.Join(os.Args, " "), time.Now().Format(time.RFC3339))
	return func() {
		f.Truncate(0)
		f.Close() // releases the flock
	}, nil
}
