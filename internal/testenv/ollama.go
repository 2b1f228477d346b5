package testenv

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tuneline/tuneline/localollama"
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
	ollamaOnce.Do(func() {
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

// Shutdown stops the shared server, if one was started.
func Shutdown() {
	if ollamaSrv != nil {
		ollamaSrv.Stop()
	}
}
