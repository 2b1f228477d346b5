package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/localollama"
)

// TinyModel is the name the shared test server gives the tiny model.
const TinyModel = "tiny"

var (
	ollamaOnce sync.Once
	ollamaSrv  *localollama.Server
	ollamaErr  error
)

// Ollama returns a real ollama server (installed on first use, see
// localollama) serving the tiny random-weight model as TinyModel, shared by
// the tests of one package; call Shutdown from TestMain. A test that cannot
// get one fails: it is never skipped.
func Ollama(t testing.TB) *localollama.Server {
	t.Helper()
	Integration(t, "a real Ollama server")
	ollamaOnce.Do(func() {
		// One test process at a time runs an Ollama: go test runs packages
		// in parallel, and several servers generating on two cores slow
		// every request past the tests' timeouts.
		waitStart := time.Now()
		if err := lockMachine(); err != nil {
			ollamaErr = err
			return
		}
		if w := time.Since(waitStart); w > 5*time.Second {
			// Why this package's tests may look slow: another package held
			// the machine's test Ollama.
			fmt.Fprintf(os.Stderr, "testenv: waited %.0f s for another test process's Ollama to finish\n", w.Seconds())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		ollamaSrv, ollamaErr = localollama.Start(ctx, localollama.Options{Log: os.Stderr, NumParallel: 4, Debug: true})
		if ollamaErr == nil {
			ollamaErr = ollamaSrv.CreateTiny(ctx, TinyModel)
		}
	})
	if ollamaErr != nil {
		t.Fatalf("real ollama for tests: %v", ollamaErr)
	}
	return ollamaSrv
}

// Shutdown stops the shared server, if one was started, and lets the
// next test process start its own.
func Shutdown() {
	if ollamaSrv != nil {
		ollamaSrv.Stop()
	}
	unlockMachine()
}

var lockFile *os.File

// LockMachine makes the test wait for other test processes' Ollama work
// and keeps it from theirs until Shutdown: for a test that runs an Ollama
// of its own (tuneline's). A no-op when this process holds the lock.
func LockMachine(t testing.TB) {
	t.Helper()
	if err := lockMachine(); err != nil {
		t.Fatal(err)
	}
}

func lockMachine() error {
	if lockFile != nil {
		return nil
	}
	dir := localollama.CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "test-ollama.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	lockFile = f
	return nil
}

func unlockMachine() {
	if lockFile != nil {
		syscall.Flock(int(lockFile.Fd()), syscall.LOCK_UN)
		lockFile.Close()
		lockFile = nil
	}
}
