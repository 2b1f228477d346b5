// Command tuneline turns raw sources into fine-tuning datasets and custom
// Ollama models: ingest, synth, format (validate/export), modelfile/create,
// pipelines and eval, each a staged, resumable command.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tuneline/tuneline/internal/envconfig"
	"github.com/tuneline/tuneline/internal/iostreams"
)

func main() {
	ctx := signalContext(graceAfterSignal)
	// TUNELINE_CPUPROFILE=FILE writes a CPU profile (for benchmarks).
	if p := envconfig.Get("TUNELINE_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			code := Run(ctx, os.Args, iostreams.System())
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	// TUNELINE_MEMPROFILE=FILE writes a heap profile with every allocation
	// made (alloc_space), for finding churn.
	if p := envconfig.Get("TUNELINE_MEMPROFILE"); p != "" {
		code := Run(ctx, os.Args, iostreams.System())
		if f, err := os.Create(p); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		os.Exit(code)
	}
	os.Exit(Run(ctx, os.Args, iostreams.System()))
}

// graceAfterSignal is how long work may take to wind down after Ctrl-C or
// SIGTERM (finished outputs are kept, partial ones removed) before the
// process exits anyway: work stuck where it cannot see the cancellation (a
// hostile file deep in a parser) must not keep it alive.
const graceAfterSignal = time.Second

// signalContext is cancelled by the first SIGINT or SIGTERM; the process
// then exits with 130 after grace, or at once on a second signal.
func signalContext(grace time.Duration) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel()
		fmt.Fprintf(os.Stderr, "tuneline: %v: stopping (finished work is kept; again to exit at once)\n", sig)
		select {
		case <-sigs:
		case <-time.After(grace):
			fmt.Fprintln(os.Stderr, "tuneline: stopped")
		}
		os.Exit(ExitInterrupted)
	}()
	return ctx
}
