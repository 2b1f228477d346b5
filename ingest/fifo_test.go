package ingest

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe given as a source is refused at once, not opened (which
// blocked forever waiting for a writer), and /dev/zero is not read until
// the cap (issue 29, case 11, the FIFO part).
func TestNonRegularSourceRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() { _, _, err := load(context.Background(), src, Options{MaxBytes: 200 << 20}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want it refused", src, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still blocked after 5 s", src)
		}
	}
}
