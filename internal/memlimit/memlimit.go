// Package memlimit runs a test in a child process with a limited address
// space, for tests of inputs that would take gigabytes if a limit
// regressed. It imports nothing of tuneline, so any package's tests may use
// it.
package memlimit

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

const boundedEnv = "TUNELINE_TEST_BOUNDED"

// Child runs the calling test again in a child process whose address
// space is limited to limit bytes (ulimit -v), so that a regression that
// allocates what a hostile size field asks for ends that child with "out
// of memory" instead of taking the machine's memory. It returns true in
// the child, where the test goes on; in the parent it waits for the child,
// fails the test with the child's output when it failed, and returns
// false. Under the race detector, which needs terabytes of address space,
// it returns true at once: the test runs unlimited in this process.
//
//	if !memlimit.Child(t, 1<<30) {
//		return
//	}
func Child(t *testing.T, limit int64) bool {
	t.Helper()
	if raceEnabled || os.Getenv(boundedEnv) == t.Name() {
		return true
	}
	cmd := exec.Command("/bin/sh", "-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, limit>>10),
		os.Args[0], "-test.run", "^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	// glibc reserves 64 MiB of address space per thread's arena, which
	// under the limit made cgo's pthread_create fail.
	cmd.Env = append(os.Environ(), boundedEnv+"="+t.Name(), "MALLOC_ARENA_MAX=2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a child limited to %d MiB: %v\n%s", limit>>20, err, out)
	}
	return false
}
