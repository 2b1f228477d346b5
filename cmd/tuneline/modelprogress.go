package main

import (
	"context"
	"time"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/progress"
	"github.com/tuneline/tuneline/llm"
)

// modelProgress is the progress bar of a command that talks to a model
// server: it shows the requests' activity (tokens streaming, the last retry
// and why) on every line and beats while a request takes long. The
// returned context carries the activity; stop ends the heartbeat.
// With a pool, the line also says each server's level of parallel
// requests (and why, when auto measures it).
func modelProgress(ctx context.Context, ios *iostreams.IOStreams, label string, total int64, pool ...*llm.Pool) (context.Context, *progress.Bar, func()) {
	bar := progress.New(ios.ErrOut, progress.Options{Label: label, Total: total, Live: ios.StderrTTY, Off: ios.Quiet})
	act := llm.NewActivity()
	bar.SetNote(act.Note)
	ctx = llm.WithActivity(ctx, act)
	if len(pool) > 0 {
		llm.ShowStatus(ctx, pool[0].StatusLine)
	}
	stop := make(chan struct{})
	go bar.Heartbeat(time.Second, stop)
	return ctx, bar, func() { close(stop) }
}
