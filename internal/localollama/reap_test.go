package localollama

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A folder whose owner died is removed; one whose owner lives, and one
// just made without a lock (a start in progress), are kept.
func TestCleanLeftovers(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name string, lock bool) string {
		d := filepath.Join(tmp, tempPrefix+name)
		os.MkdirAll(filepath.Join(d, "models"), 0o755)
		if lock {
			os.WriteFile(filepath.Join(d, ownerLock), nil, 0o644)
		}
		return d
	}
	dead := mk("dead", true)
	os.WriteFile(filepath.Join(dead, pgidFile), []byte("999999999"), 0o644)
	live := mk("live", true)
	f, err := os.OpenFile(filepath.Join(live, ownerLock), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	fresh := mk("fresh", false)
	old := mk("old", false)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)

	CleanLeftovers()
	for d, want := range map[string]bool{dead: false, live: true, fresh: true, old: false} {
		_, err := os.Stat(d)
		if got := err == nil; got != want {
			t.Errorf("%s exists %v, want %v", filepath.Base(d), got, want)
		}
	}
}

// The watchdog ends the server's whole process group when its owner's end
// of the pipe closes, as it does when the owner dies.
func TestWatchdogKillsGroup(t *testing.T) {
	dir := t.TempDir()
	// A stand-in for ollama serve that starts a child ("runner") of its own.
	bin := filepath.Join(dir, "fake-ollama")
	os.WriteFile(bin, []byte("#!/bin/sh\nsleep 300 &\nwait\n"), 0o755)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := newServeCmd(bin, pr, []string{"TUNELINE_WATCHDOG_TEST=" + dir})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for countGroup(pgid) < 3 { // sh watchdog, serve, its child
		if time.Now().After(deadline) {
			t.Fatalf("group %d has %d processes, want 3", pgid, countGroup(pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	pw.Close() // the owner "dies"
	defer func() { syscall.Kill(-pgid, syscall.SIGKILL); <-done }()
	deadline = time.Now().Add(5 * time.Second)
	for countGroup(pgid) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d processes of group %d outlived the owner by 5 s", countGroup(pgid), pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countGroup(pgid int) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if g, err := syscall.Getpgid(atoi(filepath.Base(p))); err == nil && g == pgid {
			if st, _ := os.ReadFile(filepath.Join(p, "stat")); !isZombie(st) {
				n++
			}
		}
	}
	return n
}
