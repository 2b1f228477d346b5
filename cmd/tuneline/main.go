// Command tuneline turns raw sources into fine-tuning datasets and custom
// Ollama models: ingest, synth, format (validate/export), modelfile/create,
// pipelines and eval, each a staged, resumable command.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/tuneline/tuneline/iostreams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// TUNELINE_CPUPROFILE=FILE writes a CPU profile (for benchmarks).
	if p := os.Getenv("TUNELINE_CPUPROFILE"); p != "" {
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
	if p := os.Getenv("TUNELINE_MEMPROFILE"); p != "" {
		code := Run(ctx, os.Args, iostreams.System())
		if f, err := os.Create(p); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		os.Exit(code)
	}
	os.Exit(Run(ctx, os.Args, iostreams.System()))
}
