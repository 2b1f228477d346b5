package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/tuneline/tuneline/synth"
)

// benchSlots tests why a server runs slower at level 1 after requests ran
// side by side: the same 8 requests alone (twice), then other requests in
// fours, then the same 8 alone again; each phase's seconds a request and
// tokens out a second.
func benchSlots(ctx context.Context, chunks string, opt synth.Options, host, model string) {
	b, reqs := planned(ctx, chunks, opt, host, model)
	alone := func(name string) {
		t0 := time.Now()
		out := 0
		for _, r := range reqs[:8] {
			rep, err := b.Chat(ctx, r.Request)
			check(err)
			out += rep.TokensOut
		}
		s := time.Since(t0).Seconds()
		fmt.Printf("%-24s %.2f s a request, %d tokens out, %.0f tokens/s\n", name, s/8, out, float64(out)/s)
	}
	side := func(name string, level int) {
		t0 := time.Now()
		rest := reqs[8:]
		n := len(rest) / level * level
		for i := 0; i < n; i += level {
			var wg sync.WaitGroup
			for _, r := range rest[i : i+level] {
				wg.Add(1)
				go func() { defer wg.Done(); _, err := b.Chat(ctx, r.Request); check(err) }()
			}
			wg.Wait()
		}
		fmt.Printf("%-24s %.2f s a request\n", name, time.Since(t0).Seconds()/float64(n))
	}
	runners := func() string {
		out, _ := exec.Command("pgrep", "-f", "ollama runner").Output()
		return strings.Join(strings.Fields(string(out)), ",")
	}
	alone("alone")
	alone("alone again")
	side("in fours", 4)
	alone("alone after fours")
	alone("alone, later")
	if os.Getenv("SYNTHBENCH_RELOAD") != "" {
		if os.Getenv("SYNTHBENCH_RELOAD") == "cancel" { // as a failed trial sheds
			cctx, cancel := context.WithCancel(ctx)
			for _, r := range reqs[8:12] {
				go b.Chat(cctx, r.Request)
			}
			time.Sleep(600 * time.Millisecond)
			cancel()
		}
		fmt.Printf("runners before the reload: %s\n", runners())
		t0 := time.Now()
		check(b.Reload(ctx, model))
		fmt.Printf("reloaded in %.2f s; runners: %s\n", time.Since(t0).Seconds(), runners())
		alone("alone after the reload")
		fmt.Printf("runners: %s\n", runners())
		alone("alone, later")
		alone("alone, later still")
	}
}
