package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// A chat log is charged to its document's budget as its examples are
// decoded and held (issue 29, case 5: a 43 MB log took 1.18 GB outside any
// budget): over it, the log ends with an error naming its line, and the
// file beside it is ingested.
func TestChatLogWithinBudget(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; b.Len() < 1500<<10; i++ {
		fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"Question %d about rivers?"},{"role":"assistant","content":"%s"}]}`+"\n", i, strings.Repeat("word ", 20))
	}
	log := filepath.Join(dir, "log.jsonl")
	os.WriteFile(log, []byte(b.String()), 0o644)
	note := filepath.Join(dir, "note.txt")
	os.WriteFile(note, []byte("A plain note about rivers and mills.\n"), 0o644)
	sum, out := run(t, Options{Limits: Limits{MemoryMB: 1}}, log, note)
	if e := sum.Errors[log]; !strings.Contains(e, "memory budget of 1 MB") || !strings.Contains(e, "log.jsonl:") {
		t.Errorf("log: %q, want the memory budget with the line", e)
	}
	if len(out.exs) != 0 || sum.Documents != 1 || len(out.chunks) == 0 {
		t.Errorf("%d examples, %d documents, %d chunks: want only the note", len(out.exs), sum.Documents, len(out.chunks))
	}
	// within a budget it fits, every example comes out
	sum, out = run(t, Options{Limits: Limits{MemoryMB: 64}}, log)
	if len(sum.Errors) != 0 || len(out.exs) != strings.Count(b.String(), "\n") {
		t.Errorf("errors %v, %d examples of %d", sum.Errors, len(out.exs), strings.Count(b.String(), "\n"))
	}
}

// The pool is shared by the workers: a charge that would pass it waits
// while other documents hold memory, except the first document in the
// run's order, which goes on; a release lets the waiting one go.
func TestPoolFirstGoesOthersWait(t *testing.T) {
	ctx := context.Background()
	p := NewPool(10)
	lim := Limits{Pool: p}
	b1 := Admit(ctx, 1, 8<<20, lim)
	got := make(chan error, 1)
	b2 := Admit(ctx, 2, 0, lim)
	go func() { got <- b2.Charge(5 << 20) }()
	select {
	case err := <-got:
		t.Fatalf("the second document's charge passed the pool at once (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	b0 := Admit(ctx, 0, 0, lim) // first in the run's order: never waits
	if err := b0.Charge(5 << 20); err != nil {
		t.Fatal(err)
	}
	b1.Release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after the release")
	}
	if peak := p.Peak(); peak != 13<<20 {
		t.Errorf("peak %d MB, want 13 (8 held, 5 more by the first document)", peak>>20)
	}
	b0.Release()
	b2.Release()
}

// Four chat logs at four workers stay within a pool smaller than one of
// them, all come out (results are written in order, so the first document
// must never wait: when it could, the later ones held the pool and it
// timed out), and the pool's peak is its limit plus one document at most.
func TestPoolAcrossWorkers(t *testing.T) {
	dir := t.TempDir()
	var srcs []string
	for k := range 4 {
		var b strings.Builder
		for i := 0; b.Len() < 200<<10; i++ {
			fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"Log %d, question %d?"},{"role":"assistant","content":"An answer."}]}`+"\n", k, i)
		}
		p := filepath.Join(dir, fmt.Sprintf("log%d.jsonl", k))
		os.WriteFile(p, []byte(b.String()), 0o644)
		srcs = append(srcs, p)
	}
	pool := NewPool(1)
	sum, _ := runWithin(t, 30*time.Second, Options{Workers: 4, Limits: Limits{MemoryMB: 64, TimePerMB: time.Second, Pool: pool}}, srcs...)
	if sum.Documents != 4 || len(sum.Errors) != 0 {
		t.Errorf("%d documents, errors %v", sum.Documents, sum.Errors)
	}
	if one := int64(200<<10) * (chatCost + 1) * 11 / 10; pool.Peak() > 1<<20+one {
		t.Errorf("peak %d KB, over the pool's 1024 KB plus one log's %d KB", pool.Peak()>>10, one>>10)
	}
}

// A chat log's examples are held encoded until the log's turn to be
// written (issue 29, case 5: held as structs, four 43 MB logs took 1.9 GB):
// at that turn the live heap is under 4 bytes for each byte of the log
// (2.6 with them encoded, their lines naming the log's long temporary path;
// 8.9 as structs).
func TestChatLogHeldEncoded(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.jsonl")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < 40000; i++ {
		fmt.Fprintf(w, `{"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"Question %d about rivers?"},{"role":"assistant","content":"Rivers %d carry silt to the sea."}]}`+"\n", i, i)
	}
	w.Flush()
	f.Close()
	st, _ := os.Stat(log)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var live uint64
	out := &heapOut{at: func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = ms.HeapAlloc - min(base, ms.HeapAlloc)
	}}
	sum, err := Run(context.Background(), []string{log}, Options{Workers: 1}, out)
	if err != nil || len(sum.Errors) != 0 || sum.Examples != 40000 || out.lines != 40000 {
		t.Fatalf("%v %v: %d examples, %d lines written", err, sum.Errors, sum.Examples, out.lines)
	}
	if perByte := float64(live) / float64(st.Size()); perByte > 4 {
		t.Errorf("%d bytes live while the log's examples were written: %.1f a byte of its %d, want under 4", live, perByte, st.Size())
	}
}

// heapOut counts example lines and calls at when the first are written.
type heapOut struct {
	memOut
	at    func()
	lines int
}

func (h *heapOut) ChatExamples(src string, jsonl []byte) error {
	if h.lines == 0 {
		h.at()
	}
	h.lines += strings.Count(string(jsonl), "\n")
	return nil
}

// The run's memory is the Go runtime's soft limit too (three quarters of
// it, the rest for what the runtime does not count), unless GOMEMLIMIT
// says otherwise; the limit before is put back.
func TestSoftMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	restore := Config{MemoryMB: 1024}.SoftMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 768<<20 {
		t.Errorf("soft limit %d MiB, want 768", got>>20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d after restore, want %d", got, before)
	}
	t.Setenv("GOMEMLIMIT", "2GiB")
	Config{MemoryMB: 1024}.SoftMemoryLimit()()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d with GOMEMLIMIT set, want it left at %d", got, before)
	}
}

// Memory given back while a document goes on (a chat log's record once
// decoded) is room for the others at once.
func TestPoolRefund(t *testing.T) {
	ctx := context.Background()
	p := NewPool(10)
	lim := Limits{Pool: p, MemoryMB: 9}
	b0 := Admit(ctx, 0, 0, lim)
	if err := b0.Charge(8 << 20); err != nil {
		t.Fatal(err)
	}
	b0.Refund(8 << 20)
	if err := b0.Charge(8 << 20); err != nil {
		t.Fatalf("the document's budget did not get the refund back: %v", err)
	}
	b0.Refund(8 << 20)
	b1 := Admit(ctx, 1, 0, lim)
	done := make(chan error, 1)
	go func() { done <- b1.Charge(5 << 20) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second document waited for memory the first had given back")
	}
	b0.Release()
	b1.Release()
	if p.used != 0 {
		t.Errorf("%d bytes still used after every release", p.used)
	}
}

// A document's time stops while it waits for room in the pool: other
// documents' memory is not its slowness (a good file waiting behind big
// ones ran out of time without reading a byte). Its time still runs out
// when it works past it.
func TestPoolWaitNotCountedAsTime(t *testing.T) {
	defer func(old time.Duration) { minDocTime = old }(minDocTime)
	minDocTime = 200 * time.Millisecond
	ctx := context.Background()
	p := NewPool(10)
	lim := Limits{Pool: p, TimePerMB: time.Millisecond}
	b0 := Admit(ctx, 0, 8<<20, lim) // the first document holds the pool
	b1 := Admit(ctx, 1, 0, lim)
	cancel := b1.Start(ctx, 1<<20)
	defer cancel()
	go func() {
		time.Sleep(600 * time.Millisecond)
		b0.Release()
	}()
	if err := b1.Charge(5 << 20); err != nil {
		t.Fatalf("after waiting 600 ms for memory: %v, want its 200 ms still there", err)
	}
	select {
	case <-b1.Done():
		if err := b1.Err(); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "time budget") {
			t.Errorf("time up with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the document's time never ran out once it worked again")
	}
	b1.Release()
}
